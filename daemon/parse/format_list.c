/*
 * parse/format_list.c — digests that list papers as headings or list items with a link to the
 * paper: "## 0.[Title](https://arxiv.org/pdf/ID)" then "summary: ..." lines, "- [Title](URL) —
 * Authors", "- 2022-11-30, **Title**, Authors et.al., Paper: [URL](URL)", or "### Title" with its
 * paper link further down its section.
 *
 * An item is a heading or a list item; its body runs to the next item. "Key: value" lines in the
 * body (authors, summary, date, link) are its fields; otherwise its first paragraph is its
 * abstract. A heading that is a date dates the items after it. An item without a paper link is
 * not a paper (a section heading, a list of tools).
 */
#include <string.h>

#include "format.h"

/* An item's body is read for this many lines at most: a section heading with a long text and no
 * paper link must not hold the window. */
#define ITEM_LINES_MAX 64
/* Authors written after a title are at most this long; more is a sentence. */
#define AUTHORS_MAX 1000

enum list_field { LF_TITLE, LF_AUTHORS, LF_ABSTRACT, LF_DATE, LF_LINK, N_LIST_FIELDS };

/* Field keys, compared case-insensitively without emphasis; the value follows a colon. */
static const struct {
	const char *key;
	enum list_field field;
} list_keys[] = {
	{"title", LF_TITLE},    {"authors", LF_AUTHORS},  {"author", LF_AUTHORS},
	{"by", LF_AUTHORS},     {"summary", LF_ABSTRACT}, {"abstract", LF_ABSTRACT},
	{"tl;dr", LF_ABSTRACT}, {"tldr", LF_ABSTRACT},    {"description", LF_ABSTRACT},
	{"date", LF_DATE},      {"published", LF_DATE},   {"publish date", LF_DATE},
	{"link", LF_LINK},      {"url", LF_LINK},         {"pdf", LF_LINK},
	{"paper", LF_LINK},     {"arxiv", LF_LINK},       {"abs", LF_LINK},
};

struct item {
	bool open, heading;
	char *start; /* its first line, where it is read again if the text ends in it */
	char *end;   /* the end of its last line so far */
	unsigned line, lines;
	size_t indent;    /* a list item's marker column: deeper items are its body */
	struct span head; /* the heading's or list item's text, without its marker */
	struct span field[N_LIST_FIELDS];
	struct span *cur; /* the field continuation lines extend */
	bool gap;         /* a blank line came after the first paragraph began */
};

struct list {
	const char *date; /* from a heading that is a date */
	struct item it;
};

/* The field a "Key: value" line sets (bullets and emphasis around the key allowed), the value in
 * *value; -1 when the line is not one. */
static int list_key(struct span line, struct span *value)
{
	const char *colon = memchr(line.s, ':', line.n < 24 ? line.n : 24);
	struct span key, content;
	size_t indent;

	if (colon == NULL)
		return -1;
	if (lex_list_item(line, &content, &indent))
		line = content;
	colon = memchr(line.s, ':', line.n);
	if (colon == NULL)
		return -1;
	key = (struct span){line.s, (size_t)(colon - line.s)};
	*value = span_skip(line, key.n + 1);
	key = lex_unemphasis(key);
	/* "**Authors:** X": the closing marker comes after the colon. */
	while (value->n > 0 && (value->s[0] == '*' || value->s[0] == '_'))
		*value = span_skip(*value, 1);
	for (size_t i = 0; i < sizeof(list_keys) / sizeof(list_keys[0]); i++) {
		if (key.n == strlen(list_keys[i].key) && span_starts(key, list_keys[i].key))
			return (int)list_keys[i].field;
	}
	return -1;
}

/* The first paper link in s: a Markdown link's URL, or an address written out. */
static bool paper_url(struct span s, struct span *url)
{
	struct link_scan ls;
	char id[ARXIV_ID_MAX], version[ARXIV_VER_MAX];

	link_scan_init(&ls, s);
	return link_scan_next(&ls, url, id, version);
}

static bool list_detect(struct span line)
{
	struct span url;

	line = span_trim(line);
	return line.n > 0 && line.s[0] != '|' && paper_url(line, &url);
}

/* Whether s holds nothing but separators and markup: blanks, ASCII punctuation and the symbols
 * lex_symbol_len knows. */
static bool only_separators(struct span s)
{
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.s[i];
		size_t len;

		if (c >= 0x80) {
			len = lex_symbol_len(span_skip(s, i));
			if (len == 0)
				return false;
			i += len - 1;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9')) {
			return false;
		}
	}
	return true;
}

/* Whether s only links a paper: its Markdown links name nothing ("[arXiv](URL) | [PDF](URL)"), or
 * it is a paper's address or id alone ("<URL>"), with only separators around. */
static bool link_only(struct span s)
{
	struct span before, text, link, url;
	bool linked = false;

	s = span_trim(s);
	while (lex_link(s, &before, &text, &link)) {
		const char *after = link.s + link.n, *end = s.s + s.n;

		if (!only_separators(before) || !lex_names_nothing(text))
			return false;
		while (after < end && *after != ')')
			after++;
		s = span_skip(s, (size_t)(after - s.s) + (after < end));
		linked = true;
	}
	if (only_separators(s))
		return linked;
	return paper_url(s, &url) && only_separators((struct span){s.s, (size_t)(url.s - s.s)}) &&
	       only_separators(span_skip(s, (size_t)(url.s + url.n - s.s)));
}

/* Where the title of head is, and the text after it in *rest: the text of a link to the paper
 * when it names the paper, else the first bold text, else the text before the first link. */
static struct span item_title(struct span head, struct span url, struct span *rest)
{
	struct span s = head, before, text, link;
	const char *bold, *close, *first = head.s + head.n;

	*rest = (struct span){head.s + head.n, 0};
	while (lex_link(s, &before, &text, &link)) {
		const char *after = link.s + link.n; /* at the link's ')' */

		if (link.s == url.s && !lex_names_nothing(text)) {
			*rest = span_skip(head, (size_t)(after - head.s) + 1);
			return text;
		}
		s = span_skip(s, (size_t)(after - s.s));
	}
	bold = memmem(head.s, head.n, "**", 2);
	close = bold ? memmem(bold + 2, (size_t)(head.s + head.n - bold - 2), "**", 2) : NULL;
	if (close != NULL && close > bold + 2) {
		*rest = span_skip(head, (size_t)(close + 2 - head.s));
		return (struct span){head.s + (bold + 2 - head.s), (size_t)(close - bold - 2)};
	}
	if (lex_link(head, &before, &text, &link)) {
		first = before.s + before.n;
		/* "[Title](another site) ([arXiv](URL))": a first link to elsewhere names it. */
		if (only_separators(before) && !lex_names_nothing(text) && url.s > link.s) {
			*rest = span_skip(head, (size_t)(link.s + link.n - head.s) + 1);
			return text;
		}
	}
	if (url.s >= head.s && url.s < first)
		first = url.s;
	before = (struct span){head.s, (size_t)(first - head.s)};
	if (!only_separators(before))
		return before;
	/* The paper named first ("[arXiv:ID] Title", "URL Title"): the title follows it. */
	if (first == url.s) {
		struct span after = span_skip(head, (size_t)(url.s + url.n - head.s));

		while (after.n > 0 && only_separators((struct span){after.s, 1}))
			after = span_skip(after, 1);
		if (after.n > 0)
			return after;
	}
	return head;
}

/* Authors written after a title: "— A, B", ", A et.al., Paper: ..."; empty when none are. */
static struct span item_authors(struct span rest)
{
	static const char *const stops[] = {
		"paper:", "pdf:", "code:", "link:", "[", "(", "http", "|"};
	size_t end;

	rest = span_trim(rest);
	/* Separators, dashes (also U+2013, U+2014) and the end of a bold title. */
	for (;;) {
		if (rest.n > 0 && (rest.s[0] == ',' || rest.s[0] == '-' || rest.s[0] == ':' ||
				   rest.s[0] == ' ' || rest.s[0] == '*' || rest.s[0] == '_'))
			rest = span_skip(rest, 1);
		else if (span_starts(rest, "\xe2\x80\x93") || span_starts(rest, "\xe2\x80\x94"))
			rest = span_skip(rest, 3);
		else
			break;
	}
	if (span_starts(rest, "by "))
		rest = span_skip(rest, 3);
	end = rest.n;
	for (size_t i = 0; i < rest.n; i++) {
		for (size_t k = 0; k < sizeof(stops) / sizeof(stops[0]); k++) {
			if (span_starts(span_skip(rest, i), stops[k]) && i < end)
				end = i;
		}
	}
	rest.n = end;
	rest = span_trim(rest);
	while (rest.n > 0 && (rest.s[rest.n - 1] == ',' || rest.s[rest.n - 1] == ';'))
		rest.n--;
	if (rest.n > AUTHORS_MAX)
		rest.n = 0;
	return rest;
}

/* A heading's or item's title without what generators write around it, and without the symbols
 * that decorate a heading ("## \xf0\x9f\x93\x84 Title"): a paper's title in a table keeps
 * its own. */
static struct span item_title_trim(struct span title)
{
	title = lex_title_trim(title);
	for (size_t k = lex_symbol_len(title); k > 0; k = lex_symbol_len(title))
		title = lex_title_trim(span_skip(title, k));
	return title;
}

/* The item's paper link, its id in id: its link field's ("Link: URL", "**arXiv:** ID"), else
 * the first in its heading or list item. False when it has none (yet). */
static bool item_link(const struct item *it, struct span *url, char id[ARXIV_ID_MAX])
{
	char version[ARXIV_VER_MAX];
	struct link_scan ls;

	if (it->field[LF_LINK].s != NULL) {
		struct span f = span_trim(it->field[LF_LINK]);

		link_scan_init(&ls, f);
		if (link_scan_next(&ls, url, id, version))
			return true;
		if (lex_arxiv_id(f, id, version)) {
			*url = f;
			return true;
		}
	}
	link_scan_init(&ls, it->head);
	return link_scan_next(&ls, url, id, version);
}

/* Whether the item links its paper already. */
static bool item_linked(const struct item *it, char id[ARXIV_ID_MAX])
{
	struct span url;

	return item_link(it, &url, id);
}

/* The next link of s that names an arXiv paper by a text of its own ("[Title](URL)", not
 * "[PDF](URL)"), its text, address and id; s moves past it. */
static bool next_named_link(struct span *s, struct span *before, struct span *text,
			    struct span *link, char id[ARXIV_ID_MAX])
{
	char version[ARXIV_VER_MAX];

	while (lex_link(*s, before, text, link)) {
		*s = span_skip(*s, (size_t)(link->s + link->n - s->s));
		if (!lex_names_nothing(*text) && lex_arxiv_id(*link, id, version))
			return true;
	}
	return false;
}

/* Whether the item's head links more than one paper by name, the links with only separators
 * between them ("- **Dec 3**: [A](URL), [B](URL) and [C](URL)"): a list of papers, not one
 * paper that cites another ("[A](URL) builds on [B](URL)"). */
static bool item_lists_papers(const struct item *it)
{
	char id[ARXIV_ID_MAX], first[ARXIV_ID_MAX];
	struct span s = it->head, before, text, link;
	bool other = false;

	if (!next_named_link(&s, &before, &text, &link, first))
		return false;
	while (next_named_link(&s, &before, &text, &link, id)) {
		struct span gap = span_trim(before);

		if (span_starts(gap, ")"))
			gap = span_trim(span_skip(gap, 1));
		if (!only_separators(gap) && !span_is(gap, "and") && !span_is(gap, ", and"))
			return false;
		other = other || strcmp(id, first) != 0;
	}
	return other;
}

/* Emits each paper a list-of-papers item names, titled by its link's text. */
static void item_papers(struct parser *p, const struct list *m)
{
	const struct item *it = &m->it;
	char id[ARXIV_ID_MAX];
	struct span s = it->head, before, text, link;

	parser_claim(p, it->start, it->end, it->line, true);
	while (next_named_link(&s, &before, &text, &link, id)) {
		struct paper paper = {.line = it->line, .date = m->date};

		if (!parse_link(p, &paper, link))
			continue;
		paper.title = lex_text(item_title_trim(text));
		parser_emit(p, &paper);
	}
}

/* Emits the item as a paper when it links one, and claims its text. */
static void item_finish(struct parser *p, struct list *m)
{
	struct item *it = &m->it;
	struct paper paper = {.line = it->line, .date = m->date};
	struct span url, title, rest = {NULL, 0}, authors;
	char date[LEX_DATE_SIZE], id[ARXIV_ID_MAX];

	if (!it->open)
		return;
	it->open = false;
	if (!item_link(it, &url, id))
		return; /* a section heading, a tool: not a paper */
	if (!it->heading && it->field[LF_LINK].s == NULL && item_lists_papers(it)) {
		item_papers(p, m);
		return;
	}
	title = it->field[LF_TITLE].s ? it->field[LF_TITLE] : item_title(it->head, url, &rest);
	authors = it->field[LF_AUTHORS].s ? it->field[LF_AUTHORS] : item_authors(rest);
	/* A date field, else a date written before the title ("- 2022-11-30, **Title**"). */
	if ((it->field[LF_DATE].s != NULL && lex_date(it->field[LF_DATE], date)) ||
	    (title.s > it->head.s &&
	     lex_date((struct span){it->head.s, (size_t)(title.s - it->head.s)}, date)))
		paper.date = arena_strndup(&p->scratch, date, LEX_DATE_SIZE - 1);
	if (!parse_link(p, &paper, url))
		return; /* cannot be: paper_url found an arXiv link; the fallback would read it */
	if (authors.n > 0)
		paper.authors = lex_authors(&p->scratch, authors, &paper.n_authors,
					    &paper.authors_truncated);
	if (it->field[LF_ABSTRACT].s != NULL && span_trim(it->field[LF_ABSTRACT]).n > 0)
		paper.abstract = lex_text(it->field[LF_ABSTRACT]);
	title = item_title_trim(title);
	paper.title = lex_text(title);
	if (paper.title[0] == '\0')
		paper.title = paper.id;
	parser_claim(p, it->start, it->end, it->line, true);
	parser_emit(p, &paper);
}

/* Opens an item at line, whose text without its marker is head. */
static void item_open(struct list *m, struct span line, struct span head, unsigned no, bool heading,
		      size_t indent)
{
	m->it = (struct item){.open = true,
			      .heading = heading,
			      .start = line.s,
			      .end = line.s + line.n,
			      .line = no,
			      .indent = indent,
			      .head = head};
}

/* A body line's text without its list marker, if it has one. */
static struct span body_text(struct span t)
{
	struct span content;
	size_t indent;

	return lex_list_item(t, &content, &indent) ? content : t;
}

/* Whether line, in an open item's body, is another paper's record, which the item must leave to
 * the fallback rather than swallow: a paper link, neither a field's nor a badge's, on a line that
 * cannot be the item's own link line (a table row under a heading), or that links another paper
 * after the item has its link (a list of links under a heading). */
static bool item_ends_before(const struct item *it, struct span line)
{
	char id[ARXIV_ID_MAX], other[ARXIV_ID_MAX], version[ARXIV_VER_MAX];
	struct span t = span_trim(line), url, value;
	struct link_scan ls;

	if (t.n == 0 || it->cur != NULL || span_starts(t, "[!") || span_starts(t, "!["))
		return false;
	link_scan_init(&ls, t);
	if (!link_scan_next(&ls, &url, other, version) || list_key(t, &value) >= 0)
		return false;
	if (!item_linked(it, id))
		return !link_only(body_text(t));
	return strcmp(id, other) != 0 && (it->gap || link_only(body_text(t)));
}

/* A paragraph without the bold label generators open it with ("**Relevance:** ..."). */
static struct span without_label(struct span t)
{
	const char *end = span_starts(t, "**") ? memmem(t.s, t.n < 40 ? t.n : 40, ":**", 3) : NULL;

	return end ? span_trim(span_skip(t, (size_t)(end + 3 - t.s))) : t;
}

/* A line of an open item's body: a field, the continuation of one, the first paragraph (its
 * abstract, less a label such as "**Relevance:**"), or the paper link written on a line of its
 * own. */
static void item_body(struct item *it, struct span line)
{
	struct span t = span_trim(line), value, url;
	int field;

	it->end = line.s + line.n;
	if (t.n == 0) {
		it->gap = it->gap || it->field[LF_ABSTRACT].s != NULL;
		it->cur = NULL;
		return;
	}
	field = list_key(t, &value);
	if (field >= 0) {
		if (it->field[field].s == NULL)
			it->field[field] = span_trim(value);
		it->cur = &it->field[field];
		return;
	}
	if (it->cur != NULL) {
		it->cur->n = (size_t)(t.s + t.n - it->cur->s);
		return;
	}
	/* A paper link on a line of the body, but not a badge's ("[![arXiv](...)](...)"). */
	if (it->field[LF_LINK].s == NULL && !span_starts(t, "[!") && !paper_url(it->head, &url) &&
	    paper_url(t, &url)) {
		it->field[LF_LINK] = url;
		if (link_only(body_text(t)))
			return;
	}
	if (it->field[LF_ABSTRACT].s == NULL && !it->gap && t.s[0] != '[' && t.s[0] != '!')
		it->field[LF_ABSTRACT] = without_label(t);
}

static void *list_start(struct parser *p)
{
	struct list *m = arena_alloc(&p->keep, sizeof(*m));

	memset(m, 0, sizeof(*m));
	return m;
}

/* A heading: it ends the open item, and dates the items after it or opens one itself. */
static void list_heading(struct parser *p, struct list *m, struct span line, size_t level,
			 unsigned no)
{
	struct span text = span_trim(span_skip(line, level));
	char date[LEX_DATE_SIZE];

	item_finish(p, m);
	if (text.n <= 40 &&
	    lex_date(span_starts(text, "Papers for ") ? span_skip(text, 11) : text, date)) {
		m->date = arena_strndup(&p->keep, date, LEX_DATE_SIZE - 1);
		return;
	}
	item_open(m, line, text, no, true, 0);
}

static size_t list_feed(struct parser *p, void *state, char *text, size_t len, bool last)
{
	struct list *m = state;
	struct item *it = &m->it;
	struct lines lines;
	struct span line, content;
	size_t level, indent;
	char id[ARXIV_ID_MAX];

	lines_init(&lines, text, len, p->line);
	while (lines_next(&lines, &line)) {
		struct span value;

		level = lex_heading(line);
		if (level > 0) {
			list_heading(p, m, line, level, lines.no);
		} else if (lex_list_item(line, &content, &indent) &&
			   !(it->open &&
			     (list_key(content, &value) >= 0 ||
			      (!it->heading && indent > it->indent) ||
			      (it->heading && !item_linked(it, id) && link_only(content))))) {
			item_finish(p, m);
			item_open(m, line, content, lines.no, false, indent);
		} else if (span_trim(line).n > 0 && span_trim(line).s[0] == '|') {
			item_finish(p, m);
		} else if (it->open) {
			if ((!it->heading && it->gap && span_trim(line).n > 0 &&
			     line.s[0] != ' ') ||
			    item_ends_before(it, line))
				item_finish(p, m);
			else
				item_body(it, line);
		}
		if (it->open && ++it->lines > ITEM_LINES_MAX)
			item_finish(p, m);
	}
	if (it->open && !last) {
		/* The item may go on in the text to come: give it back, untouched. */
		it->open = false;
		p->line = it->line;
		return (size_t)(it->start - text);
	}
	item_finish(p, m);
	p->line = lines.no + 1;
	return len;
}

const struct format format_list = {
	.name = "list",
	.detect = list_detect,
	.weak = true,
	.start = list_start,
	.feed = list_feed,
	.end = NULL,
	.free = NULL,
};
