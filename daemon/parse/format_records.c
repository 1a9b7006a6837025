/*
 * parse/format_records.c — digests of "Title:" / "PDF:" / "Summary:" records separated by "---". A
 * value may go on over several lines; a blank line does not end a record, the key the first
 * record opened with does ("Title:", or "PDF:" where the link comes first), as does a link to
 * another paper.
 */
#include <string.h>

#include "format.h"

enum rec_field { REC_TITLE, REC_LINK, REC_ABSTRACT, REC_AUTHORS, REC_DATE, N_REC_FIELDS };

/* Keys, compared case-insensitively; the first of each field is the usual one. */
static const struct {
	const char *key;
	enum rec_field field;
} rec_keys[] = {
	{"title", REC_TITLE},       {"paper title", REC_TITLE}, {"name", REC_TITLE},
	{"pdf", REC_LINK},          {"url", REC_LINK},          {"link", REC_LINK},
	{"arxiv", REC_LINK},        {"abs", REC_LINK},          {"summary", REC_ABSTRACT},
	{"abstract", REC_ABSTRACT}, {"authors", REC_AUTHORS},   {"author", REC_AUTHORS},
	{"date", REC_DATE},         {"published", REC_DATE},
};

/* The record being read; its spans point into the text until it is finished. */
struct rec {
	char *start; /* its first line, where it is read again if the text ends in it */
	char *end;   /* the end of its last line so far */
	unsigned line;
	struct span field[N_REC_FIELDS];
	int last; /* the field continuation lines extend, -1 for none */
	/* The field the file's first record opened with, which opens every record ("Title:", or
	 * "PDF:" in a digest that gives the link first); -1 before. Kept from record to record. */
	int first;
};

/* The key of a "Key: value" line is found within this many bytes of its start. */
#define REC_KEY_MAX 24

/* Where the key of line ends: at its colon, or at " - " ("Title - X"); NULL when neither comes
 * early. *sep is the separator's length. */
static const char *key_end(struct span line, size_t *sep)
{
	size_t n = line.n < REC_KEY_MAX ? line.n : REC_KEY_MAX;
	const char *colon = memchr(line.s, ':', n), *dash;

	/* A key has no dash in it: a " - " only counts before any colon, and one is rare. */
	n = colon != NULL ? (size_t)(colon - line.s) : n;
	dash = memchr(line.s, '-', n);
	while (dash != NULL && !(dash > line.s && dash[-1] == ' ' && dash + 1 < line.s + line.n &&
				 dash[1] == ' ')) {
		size_t at = (size_t)(dash - line.s) + 1;

		dash = at < n ? memchr(dash + 1, '-', n - at) : NULL;
	}
	*sep = dash != NULL ? 3 : 1;
	return dash != NULL ? dash - 1 : colon;
}

/* The field a "Key: value" line sets, with the value in *value; -1 when the line is not one. The
 * line may be a list item or a heading, and the key bold ("- **Title:** X", "### Title: X"). */
static int rec_key(struct span line, struct span *value)
{
	const char *end;
	struct span key, content;
	size_t sep, indent, level;
	char first;

	if (line.n == 0)
		return -1;
	/* A heading or list item only when its first byte says so: most lines are neither. */
	first = line.s[0];
	level = first == '#' ? lex_heading(line) : 0;
	if (level > 0)
		line = span_trim(span_skip(line, level));
	else if ((first == '-' || first == '*' || first == '+' || (first >= '0' && first <= '9')) &&
		 lex_list_item(line, &content, &indent))
		line = content;
	end = key_end(line, &sep);
	if (end == NULL)
		return -1;
	key.s = line.s;
	key.n = (size_t)(end - line.s);
	key = lex_unemphasis(key);
	for (size_t i = 0; i < sizeof(rec_keys) / sizeof(rec_keys[0]); i++) {
		if (key.n == strlen(rec_keys[i].key) && span_starts(key, rec_keys[i].key)) {
			*value = span_skip(line, (size_t)(end - line.s) + sep);
			/* "**Title:** X": the closing marker comes after the colon. */
			while (value->n > 0 && (value->s[0] == '*' || value->s[0] == '_'))
				*value = span_skip(*value, 1);
			return (int)rec_keys[i].field;
		}
	}
	return -1;
}

static bool rec_detect(struct span line)
{
	struct span value;

	return rec_key(span_trim(line), &value) == REC_TITLE;
}

static bool is_rule(struct span line)
{
	line = span_trim(line);
	if (line.n < 3)
		return false;
	for (size_t i = 0; i < line.n; i++) {
		if (line.s[i] != '-')
			return false;
	}
	return true;
}

static void rec_clear(struct rec *r)
{
	int first = r->first;

	memset(r, 0, sizeof(*r));
	r->last = -1;
	r->first = first;
}

static void rec_finish(struct parser *p, struct rec *r)
{
	struct paper paper = {.line = r->line};
	struct span *f = r->field;
	char date[LEX_DATE_SIZE];

	if (r->start == NULL)
		return;
	if (f[REC_TITLE].s == NULL || span_trim(f[REC_TITLE]).n == 0) {
		parser_skip(p, r->line, "record without a Title");
		goto out;
	}
	if (f[REC_LINK].s == NULL || (!parse_link(p, &paper, f[REC_LINK]) && paper.url == NULL)) {
		parser_skip(p, r->line, "record without a link to the paper");
		goto out;
	}
	paper.title = lex_text(f[REC_TITLE]);
	if (f[REC_ABSTRACT].s != NULL && span_trim(f[REC_ABSTRACT]).n > 0)
		paper.abstract = lex_text(f[REC_ABSTRACT]);
	if (f[REC_AUTHORS].s != NULL)
		paper.authors = lex_authors(&p->scratch, f[REC_AUTHORS], &paper.n_authors,
					    &paper.authors_truncated);
	if (f[REC_DATE].s != NULL && lex_date(f[REC_DATE], date))
		paper.date = arena_strndup(&p->scratch, date, LEX_DATE_SIZE - 1);
	parser_claim(p, r->start, r->end, r->line, paper.id != NULL);
	parser_emit(p, &paper);
out:
	rec_clear(r);
}

/* Whether a title or link the record has already starts the next record: a generator may
 * write the link before the title ("PDF: ...", "Title: ...", blank, "PDF: ..."). A second link
 * of the same paper ("PDF:" and "URL:") is not another record, nor is a second summary or date
 * ("Abstract:" and "Summary:"). */
static bool rec_starts_another(const struct rec *r, int field, struct span value)
{
	char id[ARXIV_ID_MAX], other[ARXIV_ID_MAX], version[ARXIV_VER_MAX];

	/* The field records open with opens the next one, whatever the record holds: a record
	 * missing its title ("PDF:", "Summary:") does not take the next record's. */
	if (field == r->first && field != REC_LINK && r->start != NULL)
		return true;
	if (r->field[field].s == NULL || (field != REC_TITLE && field != REC_LINK))
		return false;
	if (field == REC_TITLE)
		return true;
	return lex_arxiv_id(r->field[REC_LINK], id, version) &&
	       lex_arxiv_id(value, other, version) && strcmp(id, other) != 0;
}

/* Whether the value read for a field replaces the one the record has: a later one does, but
 * never a link to no arXiv paper one that names a paper ("PDF: ..." then "URL: a blog"). */
static bool rec_replaces(const struct rec *r, int field, struct span value)
{
	char id[ARXIV_ID_MAX], version[ARXIV_VER_MAX];

	return field != REC_LINK || r->field[REC_LINK].s == NULL ||
	       !lex_arxiv_id(r->field[REC_LINK], id, version) || lex_arxiv_id(value, id, version);
}

static void *rec_start(struct parser *p)
{
	struct rec *r = arena_alloc(&p->keep, sizeof(*r));

	r->first = -1;
	rec_clear(r);
	return r;
}

/* Whether line is a "Key: value" line of a key the format does not know ("Code: URL", "Venue:
 * NeurIPS"): it ends a title or link going on over lines, instead of joining it. */
static bool other_label(struct span line)
{
	size_t sep;
	const char *end = key_end(span_trim(line), &sep);
	struct span t = span_trim(line);

	if (end == NULL || sep != 1 || end == t.s)
		return false;
	for (const char *c = t.s; c < end; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == ' ' ||
		      *c == '*' || *c == '_'))
			return false;
	}
	return true;
}

static size_t rec_feed(struct parser *p, void *state, char *text, size_t len, bool last)
{
	struct rec *r = state;
	struct lines it;
	struct span line, value;

	lines_init(&it, text, len, p->line);
	while (lines_next(&it, &line)) {
		int field;

		if (is_rule(line)) {
			rec_finish(p, r);
			continue;
		}
		field = rec_key(line, &value);
		if (field >= 0 && rec_starts_another(r, field, value))
			rec_finish(p, r);
		if (field >= 0) {
			if (r->start == NULL) {
				r->start = line.s;
				r->line = it.no;
			}
			if (r->first < 0)
				r->first = field;
			r->last = -1; /* a value not kept has no continuation either */
			if (rec_replaces(r, field, value)) {
				r->field[field] = value;
				r->last = field;
			}
			r->end = line.s + line.n;
		} else if ((r->last == REC_TITLE || r->last == REC_LINK) && other_label(line)) {
			r->last = -1;
		} else if (r->last >= 0 && span_trim(line).n > 0) {
			/* A continuation line: the value runs on to the end of this line. */
			struct span *f = &r->field[r->last];

			f->n = (size_t)(line.s + line.n - f->s);
			r->end = line.s + line.n;
		}
	}
	if (r->start != NULL && !last) {
		/* The record may go on in the text to come: give it back, untouched. */
		size_t used = (size_t)(r->start - text);

		p->line = r->line;
		rec_clear(r);
		return used;
	}
	rec_finish(p, r);
	p->line = it.no + 1;
	return len;
}

const struct format format_records = {
	.name = "records",
	.detect = rec_detect,
	.start = rec_start,
	.feed = rec_feed,
	.end = NULL,
	.free = NULL,
};
