/*
 * parse/fallback.c — finding every paper link of a digest, telling the ones the format read from
 * the ones it did not, and turning the second kind into papers at the end of the file.
 *
 * The format claims the text of each record it reads (and may clean it in place); the fallback
 * looks for links only in the text between claims, and in records that name no paper of their own.
 * A link found there is an orphan, which waits for the end of the file, since a later record may
 * read the same paper properly (arXiv-daily lists a paper in a table and again in an abstract
 * block).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fallback.h"
#include "format.h"
#include "utf8.h"
#include "xmalloc.h"

/* A paper link the fallback found in the text being fed. */
struct fallback_link {
	size_t at, len;    /* its URL, as offsets in the text */
	size_t line_start; /* where its line starts */
	unsigned line;
	char id[ARXIV_ID_MAX];
	char version[ARXIV_VER_MAX];
};

/* The shortest paper link there is, "arxiv.org/abs/" and a new-style id without its scheme. */
#define LINK_MIN (sizeof("arxiv.org/abs/0704.0001") - 1)
/* A fallback title is cut at this many bytes: a line's text, not its whole paragraph. */
#define TITLE_MAX 300

void fallback_init(struct fallback *f)
{
	memset(f, 0, sizeof(*f));
	hmap_init(&f->orphan_ids);
}

void fallback_free(struct fallback *f)
{
	free(f->claims);
	free(f->orphans);
	hmap_free(&f->orphan_ids);
}

void parser_claim(struct parser *p, const char *from, const char *to, unsigned line,
		  bool names_paper)
{
	struct fallback *f = &p->fallback;

	f->claims = xgrow(f->claims, &f->cap_claims, f->n_claims + 1, sizeof(*f->claims));
	f->claims[f->n_claims++] = (struct fallback_claim){
		(size_t)(from - p->text), (size_t)(to - p->text), line, names_paper};
}

static int claim_cmp(const void *a, const void *b)
{
	const struct fallback_claim *x = a, *y = b;

	return x->from < y->from ? -1 : x->from > y->from;
}

/* The index just past the bracket that closes the one at s[i], or n when none does. */
static size_t closing(const char *s, size_t n, size_t i, char open, char close)
{
	int depth = 0;

	for (; i < n; i++) {
		if (s[i] == open)
			depth++;
		else if (s[i] == close && --depth == 0)
			return i + 1;
	}
	return n;
}

static bool starts_url(const char *s, size_t n)
{
	return (n >= 7 && strncasecmp(s, "http://", 7) == 0) ||
	       (n >= 8 && strncasecmp(s, "https://", 8) == 0);
}

/* The HTML entities digests write, and what they stand for. */
static const struct {
	const char *name;
	char c;
} entities[] = {
	{"&amp;", '&'},  {"&lt;", '<'},    {"&gt;", '>'},   {"&quot;", '"'},
	{"&#39;", '\''}, {"&apos;", '\''}, {"&nbsp;", ' '},
};

/* The character an HTML entity at s[0..n) stands for, its length in *len; 0 when none. */
static char html_entity(const char *s, size_t n, size_t *len)
{
	for (size_t k = 0; k < sizeof(entities) / sizeof(entities[0]); k++) {
		*len = strlen(entities[k].name);
		if (n >= *len && memcmp(s, entities[k].name, *len) == 0)
			return entities[k].c;
	}
	*len = 0;
	return 0;
}

/* What the HTML tag or entity at s[*i] reads as: a blank for a tag ("<td>" parts cells as a bar
 * does), the character for an entity; *i moves to its last byte. The byte itself when it starts
 * neither. */
static char html_char(char *s, size_t n, size_t *i)
{
	size_t len = 0;
	char c = s[*i];

	if (c == '<') {
		len = lex_html_tag((struct span){s + *i, n - *i});
		c = ' ';
	} else {
		c = html_entity(s + *i, n - *i, &len);
	}
	if (len == 0)
		return s[*i];
	*i += len - 1;
	return c;
}

/* Appends s[0..n) to out[*o..max) as a reader sees it: a link becomes its text (nothing for an
 * image, or for a text like "PDF"), bare addresses, emphasis, HTML tags and table bars go,
 * escapes and HTML entities are undone, blanks are squeezed. A NUL (a byte a format cut) counts
 * as a blank. */
static void plain(char *s, size_t n, char *out, size_t *o, size_t max)
{
	for (size_t i = 0; i < n && *o < max; i++) {
		char c = s[i];

		if (c == '[' || (c == '!' && i + 1 < n && s[i + 1] == '[')) {
			size_t lb = c == '!' ? i + 1 : i, rb = closing(s, n, lb, '[', ']');

			if (rb < n && s[rb] == '(') {
				struct span text = {s + lb + 1, rb - lb - 2};

				if (c != '!' && !lex_names_nothing(text))
					plain(text.s, text.n, out, o, max);
				i = closing(s, n, rb, '(', ')') - 1;
				continue;
			}
		}
		if (c == 'h' && starts_url(s + i, n - i)) {
			while (i + 1 < n && s[i + 1] != ' ' && s[i + 1] != '|' &&
			       s[i + 1] != '\t' && s[i + 1] != '"' && s[i + 1] != '\'' &&
			       s[i + 1] != '<')
				i++;
			continue;
		}
		if (c == '<' || c == '&')
			c = html_char(s, n, &i);
		if (c == '\\' && i + 1 < n && s[i + 1] != ' ') {
			out[(*o)++] = s[++i];
			continue;
		}
		if (c == '*' || c == '`')
			continue;
		if (c == '|' || c == '\0' || c == '\t' || c == '\r' || c == '\n')
			c = ' ';
		if (c == ' ' && (*o == 0 || out[*o - 1] == ' '))
			continue;
		out[(*o)++] = c;
	}
}

/* Whether s holds a letter or digit of some script, not only marks, emoji and punctuation. */
static bool has_word(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (c >= 0xc3 && c <= 0xed && c != 0xe2))
			return true;
	}
	return false;
}

enum link_kind { LINK_BARE, LINK_TEXT, LINK_IMAGE };

/* The kind of the HTML anchor whose href is the URL at line[at], and its text: from the '>'
 * that ends the tag to "</a>" (or the end of the line). */
static enum link_kind anchor_text(const char *line, size_t n, size_t at, size_t *from, size_t *len)
{
	const char *gt = memchr(line + at, '>', n - at), *end;

	if (gt == NULL)
		return LINK_BARE;
	*from = (size_t)(gt + 1 - line);
	end = memmem(line + *from, n - *from, "</a", 3);
	if (end == NULL)
		end = memmem(line + *from, n - *from, "</A", 3);
	*len = (size_t)((end != NULL ? end : line + n) - (line + *from));
	if (memmem(line + *from, *len, "<img", 4) != NULL)
		return LINK_IMAGE;
	return LINK_TEXT;
}

/* What the URL at line[at] is the target of: a Markdown link or an HTML anchor (its text at
 * line[*from], *len bytes), an image or a link around one (a badge), or nothing (a bare
 * address). */
static enum link_kind link_text(const char *line, size_t n, size_t at, size_t *from, size_t *len)
{
	size_t depth = 1, i;

	if (at >= 6 && (line[at - 1] == '"' || line[at - 1] == '\'') &&
	    strncasecmp(line + at - 6, "href=", 5) == 0)
		return anchor_text(line, n, at, from, len);
	if (at < 3 || line[at - 1] != '(' || line[at - 2] != ']')
		return LINK_BARE;
	for (i = at - 2; i > 0 && depth > 0;) {
		i--;
		if (line[i] == ']')
			depth++;
		else if (line[i] == '[')
			depth--;
	}
	if (depth > 0)
		return LINK_BARE;
	/* "![alt](url)", or "[![alt](image)](url)": an image, or a link around one. */
	if ((i > 0 && line[i - 1] == '!') || (line[i + 1] == '!' && line[i + 2] == '['))
		return LINK_IMAGE;
	*from = i + 1;
	*len = at - 2 - (i + 1);
	return LINK_TEXT;
}

/* The title of an orphan, in the keep arena: its link's text when that names the paper, else its
 * line as plain text, else "arXiv ID". NULL for a badge, which is not a paper of the digest. */
static char *orphan_title(struct parser *p, char *line, size_t n, size_t at,
			  const struct fallback_link *l)
{
	char buf[TITLE_MAX + 1];
	size_t o = 0, from = 0, len = 0;
	struct span text, t;

	switch (link_text(line, n, at, &from, &len)) {
	case LINK_IMAGE:
		/* A badge alone is the digest's own paper, or its generator's; beside a title
		 * ("**Title** [![arXiv](badge)](URL)") it is how the line links its paper. */
		plain(line, n, buf, &o, TITLE_MAX);
		if (!has_word(buf, o))
			return NULL;
		break;
	case LINK_TEXT:
		text = (struct span){line + from, len};
		if (!lex_names_nothing(text))
			plain(text.s, text.n, buf, &o, TITLE_MAX);
		break;
	case LINK_BARE:
		break;
	}
	if (!has_word(buf, o)) {
		o = 0;
		plain(line, n, buf, &o, TITLE_MAX);
	}
	o = utf8_valid_prefix(buf, o); /* plain() may stop inside a character */
	t = lex_title_trim((struct span){buf, o});
	if (!has_word(t.s, t.n) || lex_names_nothing(t)) {
		size_t size = sizeof("arXiv ") + strlen(l->id);
		char *s = arena_alloc(&p->keep, size);

		snprintf(s, size, "arXiv %s", l->id);
		return s;
	}
	return arena_strndup(&p->keep, t.s, t.n);
}

/* Keeps the link at text[l->at] as an orphan, unless a paper or an orphan has its id already. */
static void orphan_add(struct parser *p, char *text, size_t len, const struct fallback_link *l)
{
	struct fallback *f = &p->fallback;
	char *start, *end;
	struct fallback_orphan *o;
	struct hmap_slot *slot;
	size_t id_len = strlen(l->id);
	bool existed;
	char *title;

	if (parser_emitted(p, l->id) || hmap_get(&f->orphan_ids, l->id, id_len) != NULL)
		return;
	/* The line ends at its break, or where the format cut a field (a NUL) before one. */
	start = text + l->line_start;
	for (end = text + l->at; end < text + len && *end != '\n' && *end != '\0'; end++)
		;
	title = orphan_title(p, start, (size_t)(end - start), (size_t)(text + l->at - start), l);
	if (title == NULL)
		return;
	f->orphans = xgrow(f->orphans, &f->cap_orphans, f->n_orphans + 1, sizeof(*f->orphans));
	o = &f->orphans[f->n_orphans];
	o->id = arena_strndup(&p->keep, l->id, id_len);
	o->version = l->version[0] ? arena_strndup(&p->keep, l->version, strlen(l->version)) : NULL;
	o->title = title;
	o->line = l->line;
	slot = hmap_put(&f->orphan_ids, o->id, id_len, &existed);
	slot->value = (uint32_t)f->n_orphans++;
	if (p->first_bad == 0 || l->line < p->first_bad)
		p->first_bad = l->line;
}

/* Looks for paper links in text[from..to), which no record that names its paper holds. line is
 * the number of the line text[to] is on when at_end, text[from]'s otherwise: between records it
 * is counted back from the next one, since only the text between them is as the file has it. */
static void collect_gap(struct parser *p, char *text, size_t used, size_t from, size_t to,
			unsigned line, bool at_end)
{
	struct fallback_link l;
	struct link_scan ls;
	struct span url;
	size_t counted = from;

	/* Between two rows there is a line break and no more: nothing a link could fit in. */
	if (to - from < LINK_MIN)
		return;
	link_scan_init(&ls, (struct span){text + from, to - from});
	if (!link_scan_next(&ls, &url, l.id, l.version))
		return;
	/* The first line, counted back from where the text ends; then forward link by link. */
	if (at_end)
		line -= lex_count_lines(text + from, to - from);
	do {
		const char *nl;

		l.at = (size_t)(url.s - text);
		l.len = url.n;
		line += lex_count_lines(text + counted, l.at - counted);
		counted = l.at;
		l.line = line;
		/* Back to the line break, or to a NUL a format left where it cut a field of a
		 * record it gave up on: the same place whatever the window. */
		for (nl = text + l.at; nl > text + from && nl[-1] != '\n' && nl[-1] != '\0'; nl--)
			;
		l.line_start = (size_t)(nl - text);
		orphan_add(p, text, used, &l);
	} while (link_scan_next(&ls, &url, l.id, l.version));
}

void fallback_collect(struct parser *p, char *text, size_t used, unsigned used_line)
{
	struct fallback *f = &p->fallback;
	size_t from = 0;

	for (size_t i = 1; i < f->n_claims; i++) {
		if (f->claims[i].from < f->claims[i - 1].from) {
			/* Formats claim in order; this is for one that does not. */
			qsort(f->claims, f->n_claims, sizeof(*f->claims), claim_cmp);
			break;
		}
	}
	/* Only the text between claims is looked at: most of a digest is its records, and the
	 * formats have cleaned those in place. */
	for (size_t i = 0; i < f->n_claims && f->claims[i].from < used; i++) {
		const struct fallback_claim *c = &f->claims[i];
		size_t to = c->to < used ? c->to : used;

		if (c->from > from)
			collect_gap(p, text, used, from, c->from, c->line, true);
		/* A record that names no arXiv paper of its own hides none it links. */
		if (!c->names_paper && c->from >= from)
			collect_gap(p, text, used, c->from, to, c->line, false);
		if (to > from)
			from = to;
	}
	if (from < used)
		collect_gap(p, text, used, from, used, used_line, true);
	f->n_claims = 0;
}

void fallback_emit(struct parser *p)
{
	struct fallback *f = &p->fallback;

	for (size_t i = 0; i < f->n_orphans; i++) {
		const struct fallback_orphan *o = &f->orphans[i];
		struct paper paper = {.line = o->line, .title = o->title, .format = "fallback"};

		if (parser_emitted(p, o->id))
			continue;
		parse_link(p, &paper, (struct span){o->id, strlen(o->id)});
		paper.version = o->version;
		p->n_fallback++;
		parser_emit(p, &paper);
	}
}
