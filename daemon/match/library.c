/*
 * match/library.c — a library file into entries. BibTeX is read by hand in one bounded pass: the
 * fields this needs are few, and the readers there are (btparse) stop at the first broken entry
 * or nest without limit. CSL JSON goes through jansson; an ids list is read line by line.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>

#include "library.h"
#include "utf8.h"
#include "xmalloc.h"

/* Warnings past this many in one file are counted, not each told. */
#define LIBRARY_MAX_WARNINGS 20

/* A growing byte buffer, kept from field to field. */
struct buf {
	char *s;
	size_t n, cap;
	bool cut; /* bytes past LIBRARY_MAX_FIELD were dropped */
};

static void buf_add(struct buf *b, char c)
{
	if (b->n >= LIBRARY_MAX_FIELD) {
		b->cut = true;
		return;
	}
	b->s = xgrow(b->s, &b->cap, b->n + 2, 1);
	b->s[b->n++] = c;
}

static void buf_add_cp(struct buf *b, int32_t cp)
{
	utf8proc_uint8_t u[4];
	utf8proc_ssize_t k = utf8proc_encode_char(cp, u);

	for (utf8proc_ssize_t i = 0; i < k; i++)
		buf_add(b, (char)u[i]);
}

/* What reading one file carries: the warnings told and the buffers. */
struct reader {
	const char *name;
	struct library_file *out;
	library_warn_fn warn;
	void *ctx;
	size_t n_warnings;
	struct buf raw, clean;
};

static void PW_PRINTF(3, 4) say(struct reader *r, unsigned line, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	if (r->warn == NULL)
		return;
	if (++r->n_warnings > LIBRARY_MAX_WARNINGS) {
		if (r->n_warnings == LIBRARY_MAX_WARNINGS + 1)
			r->warn(r->ctx, r->name, line, "more problems follow, not told one by one");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->warn(r->ctx, r->name, line, msg);
}

/* A string of the file kept in the arena: valid UTF-8, blanks made one space, trimmed; NULL
 * when nothing is left. */
static const char *keep(struct reader *r, const char *s, size_t n)
{
	size_t bad, len;
	char *fixed = NULL, *o, *out;
	bool gap = false;

	if (utf8_valid_prefix(s, n) != n) {
		fixed = utf8_repair(s, n, &len, &bad);
		s = fixed;
		n = len;
	}
	out = o = arena_alloc(&r->out->arena, n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		/* Control bytes, NUL among them, are blanks: a string stops only at its end. */
		if (c <= ' ' || c == 0x7f) {
			gap = o != out;
			continue;
		}
		if (gap)
			*o++ = ' ';
		gap = false;
		*o++ = (char)c;
	}
	*o = '\0';
	free(fixed);
	return o == out ? NULL : out;
}

static struct library_entry *new_entry(struct reader *r, unsigned line)
{
	struct library_file *f = r->out;

	if (f->n >= LIBRARY_MAX_ENTRIES) {
		if (f->n == LIBRARY_MAX_ENTRIES)
			say(r, line, "more than %d entries: the rest are left out",
			    LIBRARY_MAX_ENTRIES);
		f->n_bad++;
		return NULL;
	}
	f->v = xgrow(f->v, &f->cap, f->n + 1, sizeof(*f->v));
	f->v[f->n] = (struct library_entry){.line = line};
	return &f->v[f->n];
}

/* ---- arXiv ids ---- */

static size_t digits(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

/* An id at s itself: 2401.12345 or hep-th/9901001; its length in s, the id written to out. */
static size_t id_at(const char *s, size_t n, char out[32])
{
	size_t d = digits(s, n), i = 0, k;

	if (d == 4 && n > 5 && s[4] == '.') {
		k = digits(s + 5, n - 5);
		if (k < 4 || k > 5)
			return 0;
		memcpy(out, s, 5 + k);
		out[5 + k] = '\0';
		return 5 + k;
	}
	while (i < n && i < 20 && (isalpha((unsigned char)s[i]) || s[i] == '-' || s[i] == '.'))
		i++;
	if (i < 2 || i >= n || s[i] != '/' || digits(s + i + 1, n - i - 1) != 7)
		return 0;
	for (k = 0; k < i + 8; k++)
		out[k] = (char)tolower((unsigned char)s[k]);
	out[k] = '\0';
	return k;
}

static const char *find_ci(const char *s, size_t n, const char *needle)
{
	size_t m = strlen(needle);

	for (size_t i = 0; i + m <= n; i++) {
		if (strncasecmp(s + i, needle, m) == 0)
			return s + i + m;
	}
	return NULL;
}

size_t library_arxiv_id(const char *s, size_t n, char out[32])
{
	static const char *const marks[] = {"arxiv.org/abs/", "arxiv.org/pdf/", "10.48550/arxiv.",
					    "arxiv:", NULL};
	const char *p;

	while (n > 0 && isspace((unsigned char)*s))
		s++, n--;
	for (size_t i = 0; marks[i] != NULL; i++) {
		if ((p = find_ci(s, n, marks[i])) != NULL)
			return id_at(p, n - (size_t)(p - s), out);
	}
	return id_at(s, n, out);
}

/* ---- BibTeX ---- */

struct bib {
	struct reader *r;
	const char *s;
	size_t n, i;
	unsigned line;
	/* @string macros: name and value, in the arena */
	const char **macro_names, **macro_values;
	size_t n_macros, cap_names, cap_values;
};

static int peek(const struct bib *b)
{
	return b->i < b->n ? (unsigned char)b->s[b->i] : -1;
}

static void step(struct bib *b)
{
	if (b->s[b->i++] == '\n')
		b->line++;
}

static void skip_blank(struct bib *b)
{
	while (b->i < b->n && isspace((unsigned char)b->s[b->i]))
		step(b);
}

/* An identifier: letters, digits and the punctuation BibTeX allows in names and keys. */
static size_t ident(struct bib *b, const char **at)
{
	size_t start = b->i;

	while (b->i < b->n) {
		unsigned char c = (unsigned char)b->s[b->i];

		if (isspace(c) || c == '=' || c == ',' || c == '{' || c == '}' || c == '(' ||
		    c == ')' || c == '"' || c == '#' || c == '@')
			break;
		b->i++;
	}
	*at = b->s + start;
	return b->i - start;
}

/* Whether the byte at i starts a line, spaces before it allowed: an entry's '@' there inside a
 * value means the value's brace was never closed. */
static bool at_line_start(const struct bib *b, size_t i)
{
	while (i > 0 && (b->s[i - 1] == ' ' || b->s[i - 1] == '\t'))
		i--;
	return i == 0 || b->s[i - 1] == '\n';
}

/* A {...} or "..." value into raw, its outer delimiters left out: 0, or -1 with the reason. */
static int delimited(struct bib *b, struct buf *raw, const char **why)
{
	char open = b->s[b->i];
	unsigned depth = open == '{';

	step(b);
	while (b->i < b->n) {
		char c = b->s[b->i];

		if (c == '@' && at_line_start(b, b->i)) {
			*why = open == '{' ? "unclosed brace" : "unclosed quote";
			return -1;
		}
		step(b);
		if (c == '{' && ++depth > LIBRARY_MAX_DEPTH) {
			*why = "braces nested too deep";
			return -1;
		}
		if (c == '}') {
			if (depth == 0) {
				*why = "a closing brace with no opening one";
				return -1;
			}
			if (--depth == 0 && open == '{')
				return 0;
		}
		if (c == '"' && open == '"' && depth == 0)
			return 0;
		buf_add(raw, c);
	}
	*why = open == '{' ? "unclosed brace" : "unclosed quote";
	return -1;
}

static const char *macro(const struct bib *b, const char *name, size_t len)
{
	for (size_t k = b->n_macros; k-- > 0;) {
		if (strlen(b->macro_names[k]) == len &&
		    strncasecmp(b->macro_names[k], name, len) == 0)
			return b->macro_values[k];
	}
	return NULL;
}

/* A value: parts joined by #, each delimited, a number or a macro. */
static int value(struct bib *b, struct buf *raw, const char **why)
{
	raw->n = 0;
	raw->cut = false;
	for (;;) {
		int c;

		skip_blank(b);
		c = peek(b);
		if (c == '{' || c == '"') {
			if (delimited(b, raw, why) != 0)
				return -1;
		} else if (c >= 0 && c != ',' && c != '}' && c != ')') {
			const char *name, *v;
			size_t len = ident(b, &name);

			if (len == 0) {
				*why = "a value expected";
				return -1;
			}
			v = macro(b, name, len);
			if (v == NULL)
				v = "";
			if (digits(name, len) == len)
				for (size_t k = 0; k < len; k++)
					buf_add(raw, name[k]);
			for (; *v; v++)
				buf_add(raw, *v);
		} else {
			*why = "a value expected";
			return -1;
		}
		skip_blank(b);
		if (peek(b) != '#')
			return 0;
		step(b);
	}
}

/* The combining mark of an accent command, or 0. */
static int32_t accent_mark(const char *cmd, size_t len)
{
	static const struct {
		const char *cmd;
		int32_t mark;
	} marks[] = {{"'", 0x301}, {"`", 0x300}, {"^", 0x302}, {"\"", 0x308}, {"~", 0x303},
		     {"=", 0x304}, {".", 0x307}, {"c", 0x327}, {"v", 0x30c},  {"u", 0x306},
		     {"H", 0x30b}, {"k", 0x328}, {"r", 0x30a}, {"d", 0x323},  {"b", 0x331}};

	for (size_t k = 0; k < sizeof(marks) / sizeof(marks[0]); k++) {
		if (strlen(marks[k].cmd) == len && memcmp(marks[k].cmd, cmd, len) == 0)
			return marks[k].mark;
	}
	return 0;
}

/* The letter a command without argument stands for (\ss, \o, \aa), or 0. */
static int32_t letter_cmd(const char *cmd, size_t len)
{
	static const struct {
		const char *cmd;
		int32_t cp;
	} letters[] = {{"ss", 0xdf}, {"o", 0xf8},  {"O", 0xd8},   {"aa", 0xe5},  {"AA", 0xc5},
		       {"ae", 0xe6}, {"AE", 0xc6}, {"oe", 0x153}, {"OE", 0x152}, {"l", 0x142},
		       {"L", 0x141}, {"i", 'i'},   {"j", 'j'}};

	for (size_t k = 0; k < sizeof(letters) / sizeof(letters[0]); k++) {
		if (strlen(letters[k].cmd) == len && memcmp(letters[k].cmd, cmd, len) == 0)
			return letters[k].cp;
	}
	return 0;
}

/* The letter an accent applies to, at s[*i]: x, {x}, \i or {\i}; the mark follows it. */
static void accented(struct buf *out, const char *s, size_t n, size_t *i, int32_t mark)
{
	size_t k = *i;
	bool brace = false;

	while (k < n && s[k] == ' ')
		k++;
	if (k < n && s[k] == '{')
		brace = true, k++;
	if (k + 1 < n && s[k] == '\\' && (s[k + 1] == 'i' || s[k + 1] == 'j'))
		k++;
	if (k < n && isalpha((unsigned char)s[k])) {
		buf_add(out, s[k++]);
		buf_add_cp(out, mark);
	}
	if (brace && k < n && s[k] == '}')
		k++;
	*i = k;
}

/* TeX into text: braces dropped, accents made characters, other commands dropped (their
 * arguments stay), ties made spaces; NFC at the end when an accent was made. */
static void detex(struct buf *out, const char *s, size_t n, bool *marks)
{
	out->n = 0;
	out->cut = false;
	*marks = false;
	for (size_t i = 0; i < n;) {
		char c = s[i++];
		const char *cmd;
		size_t len;
		int32_t cp;

		if (c == '{' || c == '}' || c == '$')
			continue;
		if (c != '\\') {
			buf_add(out, c == '~' ? ' ' : c);
			continue;
		}
		if (i >= n)
			break;
		cmd = s + i;
		len = 1;
		if (isalpha((unsigned char)s[i])) {
			while (i + len < n && isalpha((unsigned char)s[i + len]))
				len++;
		}
		i += len;
		if ((cp = accent_mark(cmd, len)) != 0) {
			accented(out, s, n, &i, cp);
			*marks = true;
		} else if ((cp = letter_cmd(cmd, len)) != 0) {
			buf_add_cp(out, cp);
		} else if (!isalpha((unsigned char)cmd[0])) {
			buf_add(out, cmd[0] == '\\' ? ' ' : cmd[0]);
		}
		if (isalpha((unsigned char)cmd[0]) && i < n && s[i] == ' ')
			i++;
	}
}

/* A field's value made text and kept; NULL when empty. */
static const char *field_text(struct bib *b, const struct buf *raw)
{
	struct reader *r = b->r;
	bool marks;
	const char *v;

	detex(&r->clean, raw->s, raw->n, &marks);
	if (marks && r->clean.n > 0) {
		utf8proc_uint8_t *nfc;

		buf_add(&r->clean, '\0');
		nfc = utf8proc_NFC((const utf8proc_uint8_t *)r->clean.s);
		if (nfc != NULL) {
			v = keep(r, (const char *)nfc, strlen((const char *)nfc));
			free(nfc);
			return v;
		}
		r->clean.n--;
	}
	return keep(r, r->clean.s, r->clean.n);
}

/* The fields an entry keeps; the rest are read and dropped. */
enum bib_field { F_OTHER, F_TITLE, F_ABSTRACT, F_AUTHOR, F_ID };

static enum bib_field field_kind(const char *name, size_t len)
{
	static const struct {
		const char *name;
		enum bib_field f;
	} names[] = {{"title", F_TITLE},   {"abstract", F_ABSTRACT},
		     {"author", F_AUTHOR}, {"eprint", F_ID},
		     {"arxiv", F_ID},      {"arxivid", F_ID},
		     {"url", F_ID},        {"doi", F_ID},
		     {"journal", F_ID},    {"archiveprefix", F_OTHER}};

	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		if (strlen(names[k].name) == len && strncasecmp(names[k].name, name, len) == 0)
			return names[k].f;
	}
	return F_OTHER;
}

/* Skips to the next '@' that starts a line, after an entry that could not be read. */
static void resync(struct bib *b)
{
	while (b->i < b->n && !(b->s[b->i] == '@' && at_line_start(b, b->i)))
		step(b);
}

static void add_macro(struct bib *b, const char *name, size_t len, const struct buf *raw)
{
	if (b->n_macros >= LIBRARY_MAX_MACROS)
		return;
	b->macro_names = xgrow(b->macro_names, &b->cap_names, b->n_macros + 1, sizeof(char *));
	b->macro_values = xgrow(b->macro_values, &b->cap_values, b->n_macros + 1, sizeof(char *));
	b->macro_names[b->n_macros] = arena_strndup(&b->r->out->arena, name, len);
	b->macro_values[b->n_macros++] = arena_strndup(&b->r->out->arena, raw->s, raw->n);
}

/* The fields of one entry, after its key, up to its closing delimiter: 0, or -1 with why. */
static int bib_fields(struct bib *b, struct library_entry *e, char close, const char **why)
{
	struct buf *raw = &b->r->raw;
	char id[32];

	for (;;) {
		const char *name;
		size_t len;
		enum bib_field f;

		skip_blank(b);
		if (peek(b) == close) {
			step(b);
			return 0;
		}
		if (peek(b) == ',') {
			step(b);
			continue;
		}
		len = ident(b, &name);
		skip_blank(b);
		if (len == 0 || peek(b) != '=') {
			/* A brace left open swallowed the entry's end: it runs into the next. */
			if (peek(b) == '@' && at_line_start(b, b->i))
				*why = "unclosed brace: the entry runs into the next one";
			else
				*why = peek(b) < 0 ? "the file ends inside the entry"
						   : "a field expected";
			return -1;
		}
		step(b);
		if (value(b, raw, why) != 0)
			return -1;
		f = field_kind(name, len);
		if (e == NULL || f == F_OTHER)
			continue;
		if (f == F_ID) {
			if (e->id == NULL && raw->n > 0 && library_arxiv_id(raw->s, raw->n, id) > 0)
				e->id = arena_strndup(&b->r->out->arena, id, strlen(id));
			continue;
		}
		if (raw->cut)
			say(b->r, b->line, "a field longer than %zu bytes is cut there",
			    LIBRARY_MAX_FIELD);
		if (f == F_TITLE)
			e->title = field_text(b, raw);
		else if (f == F_ABSTRACT)
			e->abstract = field_text(b, raw);
		else
			e->authors = field_text(b, raw);
	}
}

/* An @string{name = value}: 0, or -1 with why. */
static int bib_string(struct bib *b, char close, const char **why)
{
	const char *name;
	size_t len;

	skip_blank(b);
	len = ident(b, &name);
	skip_blank(b);
	if (len == 0 || peek(b) != '=') {
		*why = "@string needs name = value";
		return -1;
	}
	step(b);
	if (value(b, &b->r->raw, why) != 0)
		return -1;
	add_macro(b, name, len, &b->r->raw);
	skip_blank(b);
	if (peek(b) != close) {
		*why = "@string needs name = value";
		return -1;
	}
	step(b);
	return 0;
}

/* One entry from its '@': read, reported, or skipped. */
static void bib_entry(struct bib *b)
{
	unsigned line = b->line;
	const char *type, *why = NULL, *key;
	struct library_entry *e = NULL, tmp;
	size_t len;
	char close;
	int rc;

	step(b);
	skip_blank(b);
	len = ident(b, &type);
	skip_blank(b);
	if (len == 0 || (peek(b) != '{' && peek(b) != '(')) {
		/* An '@' in text between entries: BibTeX takes it as a comment. */
		return;
	}
	close = peek(b) == '{' ? '}' : ')';
	if (len == 7 && strncasecmp(type, "comment", 7) == 0) {
		struct buf *raw = &b->r->raw;

		raw->n = 0;
		if (close == '}' && delimited(b, raw, &why) != 0)
			resync(b);
		return;
	}
	if (len == 8 && strncasecmp(type, "preamble", 8) == 0) {
		step(b);
		rc = value(b, &b->r->raw, &why);
		skip_blank(b);
		if (rc != 0 || peek(b) != close)
			goto bad;
		step(b);
		return;
	}
	step(b);
	if (len == 6 && strncasecmp(type, "string", 6) == 0) {
		if (bib_string(b, close, &why) != 0)
			goto bad;
		return;
	}
	skip_blank(b);
	len = ident(b, &key);
	skip_blank(b);
	if (peek(b) != ',' && peek(b) != close) {
		why = "a key and a comma expected";
		goto bad;
	}
	tmp = (struct library_entry){.line = line};
	if (bib_fields(b, &tmp, close, &why) != 0)
		goto bad;
	if (tmp.title == NULL && tmp.id == NULL) {
		say(b->r, line, "entry \"%.*s\" has no title", (int)(len > 80 ? 80 : len), key);
		b->r->out->n_bad++;
		return;
	}
	if ((e = new_entry(b->r, line)) != NULL) {
		*e = tmp;
		b->r->out->n++;
	}
	return;
bad:
	say(b->r, line, "%s; the entry is left out", why);
	b->r->out->n_bad++;
	resync(b);
}

static void read_bibtex(struct reader *r, const char *s, size_t n)
{
	struct bib b = {.r = r, .s = s, .n = n, .line = 1};

	while (b.i < b.n) {
		const char *at = memchr(b.s + b.i, '@', b.n - b.i);

		if (at == NULL)
			break;
		for (const char *p = b.s + b.i; p < at; p++)
			b.line += *p == '\n';
		b.i = (size_t)(at - b.s);
		bib_entry(&b);
	}
	free(b.macro_names);
	free(b.macro_values);
}

/* ---- CSL JSON ---- */

/* The line of each element of the top-level array, found by one scan that minds strings. */
static unsigned *element_lines(const char *s, size_t n, size_t *count)
{
	unsigned *lines = NULL, line = 1;
	size_t cap = 0, k = 0;
	unsigned depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '\n')
			line++;
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{') {
			if (depth == 1) {
				lines = xgrow(lines, &cap, k + 1, sizeof(*lines));
				lines[k++] = line;
			}
			depth++;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	*count = k;
	return lines;
}

static const char *json_text(struct reader *r, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	size_t n;

	if (!json_is_string(v))
		return NULL;
	n = json_string_length(v);
	return keep(r, json_string_value(v), n > LIBRARY_MAX_FIELD ? LIBRARY_MAX_FIELD : n);
}

/* CSL's authors, "Given Family and Given Family". */
static const char *json_authors(struct reader *r, const json_t *o)
{
	const json_t *list = json_object_get(o, "author"), *a;
	struct buf *t = &r->clean;
	size_t i;

	t->n = 0;
	json_array_foreach(list, i, a)
	{
		const char *parts[] = {"literal", "given", "family"};

		if (i > 0)
			for (const char *s = " and "; *s; s++)
				buf_add(t, *s);
		for (size_t k = 0; k < 3; k++) {
			const json_t *p = json_object_get(a, parts[k]);

			if (!json_is_string(p))
				continue;
			if (t->n > 0 && t->s[t->n - 1] != ' ')
				buf_add(t, ' ');
			for (const char *s = json_string_value(p); *s; s++)
				buf_add(t, *s);
			if (k == 0)
				break;
		}
	}
	return t->n ? keep(r, t->s, t->n) : NULL;
}

static void read_csl(struct reader *r, const char *s, size_t n)
{
	json_error_t je;
	json_t *root = json_loadb(s, n, 0, &je), *item;
	size_t i, n_lines;
	unsigned *lines;

	if (root == NULL) {
		say(r, (unsigned)(je.line > 0 ? je.line : 0), "not CSL JSON: %s", je.text);
		return;
	}
	if (!json_is_array(root)) {
		say(r, 1, "CSL JSON is an array of items, not %s",
		    json_is_object(root) ? "an object" : "a value");
		json_decref(root);
		return;
	}
	lines = element_lines(s, n, &n_lines);
	json_array_foreach(root, i, item)
	{
		unsigned line = i < n_lines ? lines[i] : 0;
		struct library_entry tmp = {.line = line}, *e;
		static const char *const ids[] = {"URL", "DOI", "number", "id", "arxiv", NULL};
		char id[32];

		if (!json_is_object(item)) {
			say(r, line, "item %zu is not an object; it is left out", i + 1);
			r->out->n_bad++;
			continue;
		}
		tmp.title = json_text(r, item, "title");
		tmp.abstract = json_text(r, item, "abstract");
		tmp.authors = json_authors(r, item);
		for (size_t k = 0; ids[k] != NULL && tmp.id == NULL; k++) {
			const json_t *v = json_object_get(item, ids[k]);

			if (json_is_string(v) &&
			    library_arxiv_id(json_string_value(v), json_string_length(v), id) > 0)
				tmp.id = arena_strndup(&r->out->arena, id, strlen(id));
		}
		if (tmp.title == NULL && tmp.id == NULL) {
			say(r, line, "item %zu has no title; it is left out", i + 1);
			r->out->n_bad++;
			continue;
		}
		if ((e = new_entry(r, line)) != NULL) {
			*e = tmp;
			r->out->n++;
		}
	}
	free(lines);
	json_decref(root);
}

/* ---- A list of ids ---- */

static void read_ids(struct reader *r, const char *s, size_t n)
{
	unsigned line = 0;

	for (size_t i = 0; i < n;) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - s) : n, a = i, z = end;
		char id[32];
		struct library_entry *e;

		line++;
		i = end + 1;
		while (a < z && isspace((unsigned char)s[a]))
			a++;
		while (z > a && isspace((unsigned char)s[z - 1]))
			z--;
		if (a == z || s[a] == '#' || s[a] == '%')
			continue;
		if (library_arxiv_id(s + a, z - a, id) == 0) {
			say(r, line, "not an arXiv id or URL; the line is left out");
			r->out->n_bad++;
			continue;
		}
		if ((e = new_entry(r, line)) != NULL) {
			e->id = arena_strndup(&r->out->arena, id, strlen(id));
			r->out->n++;
		}
	}
}

/* BibTeX when a line starts with '@', CSL JSON when the text starts with '[' or '{', else a
 * list of ids. */
static enum library_format detect(const char *s, size_t n)
{
	size_t i = 0;

	if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < n && isspace((unsigned char)s[i]))
		i++;
	if (i < n && (s[i] == '[' || s[i] == '{'))
		return LIBRARY_CSL_JSON;
	for (; i < n; i++) {
		if (s[i] == '@' &&
		    (i == 0 || s[i - 1] == '\n' || s[i - 1] == ' ' || s[i - 1] == '\t'))
			return LIBRARY_BIBTEX;
		const char *nl = memchr(s + i, '\n', n - i);

		if (nl == NULL)
			break;
		i = (size_t)(nl - s);
	}
	return LIBRARY_IDS;
}

void library_read(const char *name, const char *data, size_t len, struct library_file *out,
		  library_warn_fn warn, void *ctx)
{
	struct reader r = {.name = name, .out = out, .warn = warn, .ctx = ctx};

	memset(out, 0, sizeof(*out));
	arena_init(&out->arena);
	out->format = detect(data, len);
	if (out->format == LIBRARY_BIBTEX)
		read_bibtex(&r, data, len);
	else if (out->format == LIBRARY_CSL_JSON)
		read_csl(&r, data, len);
	else
		read_ids(&r, data, len);
	free(r.raw.s);
	free(r.clean.s);
}

int library_read_file(const char *path, struct library_file *out, library_warn_fn warn, void *ctx,
		      struct err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	char *data = NULL;
	size_t got = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (fd < 0)
		return err_set(err, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err_set(err, "%s: not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > LIBRARY_MAX_FILE) {
		err_set(err, "%s: larger than %zu MiB", path, LIBRARY_MAX_FILE >> 20);
		goto out;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, data + got, (size_t)st.st_size - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			err_set(err, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	library_read(path, data, got, out, warn, ctx);
	rc = 0;
out:
	free(data);
	close(fd);
	return rc;
}

void library_file_free(struct library_file *f)
{
	if (f == NULL)
		return;
	free(f->v);
	arena_free(&f->arena);
	memset(f, 0, sizeof(*f));
}

const char *library_format_name(enum library_format f)
{
	return f == LIBRARY_BIBTEX ? "bibtex" : f == LIBRARY_CSL_JSON ? "csl-json" : "ids";
}
