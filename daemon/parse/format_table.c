/*
 * parse/format_table.c — digests made of Markdown tables: Hugging Face daily papers, arXiv-daily
 * (category tables followed by "#### Abstracts" blocks) and date tables. A table's header row
 * says which column holds what, so the columns may come in any order.
 *
 * A row with an abstract is a whole paper and is emitted at once. A row without one (arXiv-daily)
 * waits for its abstract block, which brings the full author list, until the category ends.
 */
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "xmalloc.h"

/* Cells looked at in a row; a row with more is still counted, and refused if the header has fewer.
 */
#define MD_MAX_CELLS 64

/* A row written over more lines than this is not a wrapped row but a broken table. */
#define MD_ROW_LINES_MAX 16

/* COL_CODE is known so that its links (a repository) are never taken for the paper's. */
enum md_col { COL_TITLE, COL_AUTHORS, COL_ABSTRACT, COL_DATE, COL_LINK, COL_CODE, N_COLS };

/* Header cell names, compared case-insensitively without bold markers. */
static const struct {
	const char *name;
	enum md_col col;
} md_col_names[] = {
	{"title", COL_TITLE},       {"paper", COL_TITLE},       {"name", COL_TITLE},
	{"paper title", COL_TITLE}, {"authors", COL_AUTHORS},   {"author", COL_AUTHORS},
	{"summary", COL_ABSTRACT},  {"abstract", COL_ABSTRACT}, {"tl;dr", COL_ABSTRACT},
	{"tldr", COL_ABSTRACT},     {"date", COL_DATE},         {"publish date", COL_DATE},
	{"published", COL_DATE},    {"homepage", COL_LINK},     {"link", COL_LINK},
	{"links", COL_LINK},        {"url", COL_LINK},          {"pdf", COL_LINK},
	{"arxiv", COL_LINK},        {"arxiv id", COL_LINK},     {"id", COL_LINK},
	{"code", COL_CODE},
};

struct md_table {
	int col[N_COLS]; /* cell index of each column, -1 when the table has none */
	size_t n_cells;  /* cells in the header row */
	bool closed;     /* the header ends with a bar, so a whole row does too */
	bool bare;       /* the header has no outer bars: each row is one line with a bar in it */
	bool active;     /* a header was read; rows follow until a line that is not one */
};

/* A row read so far: a row whose title wrapped onto the next line waits for the rest. */
struct md_row {
	struct span text; /* from its first bar to the end of its last line; s NULL when none */
	unsigned line, lines;
	struct span cells[MD_MAX_CELLS];
	size_t n; /* cells in text, which may be more than are stored */
};

/* One arXiv-daily abstract block: "##### **Title**", "ID by AUTHORS", paragraphs, "摘要：...". */
struct md_block {
	bool open;
	char *start; /* the heading line, where the block is read again if the text ends in it */
	char *end;   /* the end of its last line so far */
	unsigned line;
	struct span title, byline, authors;            /* byline s NULL until the by-line is read */
	char id[ARXIV_ID_MAX], version[ARXIV_VER_MAX]; /* the by-line's, read once */
	struct span
		part[2]; /* abstract and translation, from the first line to the end of the last */
	int cur;         /* the part being read: -1 before the by-line */
};

/* A row held for its abstract block. */
struct md_pending {
	struct paper paper;
	bool merged; /* its block came, and emitted the paper with the row's fields */
};

struct md {
	const char *date; /* from "## Papers for DATE", for rows without a date of their own */
	struct md_table table;
	struct md_row row;
	bool in_abstracts;
	bool named; /* the first table header named the format */
	struct md_block block;
	/* Rows waiting for their abstract block: copies in their own arena, emptied by category. */
	struct md_pending *rows;
	size_t n_rows, cap_rows;
	size_t next_row; /* the row whose block should come next: blocks keep the table's order */
	struct hmap pending; /* id -> index in rows, for a block that does not */
	struct arena rows_arena;
};

#define TRANSLATION_LABEL       "\xe6\x91\x98\xe8\xa6\x81\xef\xbc\x9a" /* 摘要： */
#define TRANSLATION_LABEL_ASCII "\xe6\x91\x98\xe8\xa6\x81:"            /* 摘要: */

/* Reads a header row into t; false when it has no title column (not a paper table). */
static bool md_header(struct md_table *t, const struct span *cells, size_t n)
{
	for (int c = 0; c < N_COLS; c++)
		t->col[c] = -1;
	for (size_t i = 0; i < n && i < MD_MAX_CELLS; i++) {
		for (size_t k = 0; k < sizeof(md_col_names) / sizeof(md_col_names[0]); k++) {
			if (t->col[md_col_names[k].col] < 0 &&
			    span_is(cells[i], md_col_names[k].name))
				t->col[md_col_names[k].col] = (int)i;
		}
	}
	t->n_cells = n;
	return t->col[COL_TITLE] >= 0;
}

/* Whether the cells are a paper table's header: a title column and one more that digests have
 * ("| Name | Description |" in a README is not one). */
static bool md_header_strict(struct md_table *t, const struct span *cells, size_t n)
{
	int known = 0;

	if (!md_header(t, cells, n))
		return false;
	for (int c = 0; c < N_COLS; c++)
		known += t->col[c] >= 0;
	return known >= 2;
}

/* The format name a table's columns imply. */
static const char *md_format(const struct md_table *t)
{
	if (t->col[COL_LINK] >= 0 && t->col[COL_DATE] >= 0)
		return "arxiv-daily";
	if (t->col[COL_AUTHORS] >= 0 && t->col[COL_ABSTRACT] >= 0)
		return "hf-daily";
	if (t->col[COL_DATE] >= 0 && t->col[COL_ABSTRACT] >= 0)
		return "date-table";
	return "table";
}

static bool md_detect(struct span line)
{
	struct span cells[MD_MAX_CELLS];
	struct md_table t;
	size_t n;

	if (span_starts(line, "## Papers for ") || span_starts(line, "#### Abstracts"))
		return true;
	line = span_trim(line);
	if (line.n == 0 || memchr(line.s, '|', line.n) == NULL)
		return false;
	n = lex_cells(line, cells, MD_MAX_CELLS);
	return md_header_strict(&t, cells, n < MD_MAX_CELLS ? n : MD_MAX_CELLS);
}

/* Cuts an unclosed "(" and what follows it, as in "Title (Read more on". */
static struct span cut_open_paren(struct span s)
{
	int depth = 0;

	for (size_t i = s.n; i-- > 0;) {
		if (s.s[i] == ')')
			depth++;
		else if (s.s[i] == '(' && depth-- == 0)
			return span_trim((struct span){s.s, i});
	}
	return s;
}

/* The link a row names its paper by; id and version are read already when arxiv is set. */
struct md_link {
	struct span url;
	bool arxiv;
	char id[ARXIV_ID_MAX];
	char version[ARXIV_VER_MAX];
};

/* The link of cell that names an arXiv paper, else its first http(s) link, into *link (kept
 * when the cell has neither); true for an arXiv paper's. When first is given, it receives what
 * precedes the cell's first link and that link's text ({NULL, 0} when there is none). */
static bool cell_link(struct span cell, struct md_link *link, struct span first[2])
{
	struct span before, text, url, rest = cell;
	bool found = false;

	if (first != NULL)
		first[0] = first[1] = (struct span){NULL, 0};
	while (lex_link(rest, &before, &text, &url)) {
		if (first != NULL && first[1].s == NULL) {
			first[0] = (struct span){cell.s, (size_t)(before.s + before.n - cell.s)};
			first[1] = text;
		}
		if (lex_arxiv_id(url, link->id, link->version)) {
			link->url = url;
			link->arxiv = true;
			return true;
		}
		if (!found && span_starts(url, "http")) {
			link->url = url;
			found = true;
		}
		rest = span_skip(rest, (size_t)(url.s + url.n - rest.s));
	}
	cell = span_trim(cell);
	if (!found && span_starts(cell, "http")) {
		link->url = cell;
		link->arxiv = lex_arxiv_id(cell, link->id, link->version);
		return link->arxiv;
	}
	return false;
}

/* The link column's link, unless only the title cell (whose link *link holds) names an arXiv
 * paper. */
static void md_link_column(struct span cell, struct md_link *link)
{
	struct md_link other = {.url = {NULL, 0}};

	if (link->url.n == 0) {
		/* The usual case, every row of arXiv-daily: only the link column links. */
		struct span before, text, url, t = span_trim(cell);
		struct link_scan ls;

		/* Else an address as written ("<https://arxiv.org/abs/ID>", "arXiv:ID") or a bare
		 * id, which parse_link reads as well as a link. */
		link_scan_init(&ls, t);
		if (lex_link(cell, &before, &text, &url) ||
		    (!span_starts(t, "http") && link_scan_next(&ls, &url, link->id, link->version)))
			link->url = url;
		else if (span_starts(t, "http") || lex_arxiv_id(t, link->id, link->version))
			link->url = t;
	} else if (cell_link(cell, &other, NULL) || other.url.n > 0) {
		*link = other;
	}
}

/* Title and link of a row: "[Title](url)", "Title (Read more on [arXiv](url) ...)", "Title - read
 * more on [arXiv](url)", or a title cell beside a link cell ("[2410.07177v1](url)"). A link to an
 * arXiv paper wins over any other. */
static bool md_title_link(const struct md_table *t, const struct span *cells, struct span *title,
			  struct md_link *link)
{
	struct span first[2];

	*title = cells[t->col[COL_TITLE]];
	link->url.n = 0;
	link->arxiv = false;
	if (!cell_link(*title, link, first) && t->col[COL_LINK] >= 0)
		md_link_column(cells[t->col[COL_LINK]], link);
	if (first[1].s != NULL) {
		struct span before = span_trim(first[0]);

		*title = before.n > 0 ? lex_title_trim(cut_open_paren(before)) : first[1];
	}
	return link->url.n > 0;
}

/* Keeps a copy of a row that waits for its abstract block. */
static void md_hold(struct parser *p, struct md *m, const struct paper *row)
{
	size_t len = strlen(row->id);
	bool existed;
	struct hmap_slot *slot = hmap_put(&m->pending, row->id, len, &existed);
	struct paper *copy;

	if (existed)
		return;
	m->rows = xgrow(m->rows, &m->cap_rows, m->n_rows + 1, sizeof(*m->rows));
	m->rows[m->n_rows].merged = false;
	copy = &m->rows[m->n_rows].paper;
	paper_copy(&m->rows_arena, copy, row);
	/* Keyed by the copy's id, which outlives the text the row was read from. */
	slot->key = copy->id;
	slot->value = (uint32_t)m->n_rows++;
	/* Its block, a category's table later, looks it up in the set of ids emitted, too large
	 * for the cache in a long digest: the memory can come meanwhile. */
	parser_prefetch(p, copy->id, len);
}

/* Emits the rows whose block never came, and forgets them all (a category ended). A row whose
 * block came needs no look in the set of ids emitted: its paper is in it. */
static void md_flush(struct parser *p, struct md *m)
{
	for (size_t i = 0; i < m->n_rows; i++) {
		if (!m->rows[i].merged)
			parser_emit(p, &m->rows[i].paper);
	}
	m->n_rows = 0;
	m->next_row = 0;
	hmap_clear(&m->pending); /* the next category is likely as long */
	arena_reset(&m->rows_arena);
}

/* Fits a row's cells to its header, as GitHub-flavoured Markdown reads them and better: missing
 * cells are empty, and cells beyond the header's are the text an unescaped bar cut ("Conf(V|X)"),
 * joined back into the widest text column (the abstract, else the title). */
static void md_fit_cells(const struct md_table *t, struct span *cells, size_t n, struct span row)
{
	int wide = t->col[COL_ABSTRACT] >= 0 ? t->col[COL_ABSTRACT] : t->col[COL_TITLE];

	if (n > t->n_cells) {
		size_t extra = n - t->n_cells, w = (size_t)wide;
		const struct span *last = &cells[w + extra];

		cells[w].n = (size_t)(last->s + last->n - cells[w].s);
		memmove(&cells[w + 1], &cells[w + 1 + extra], (n - w - 1 - extra) * sizeof(*cells));
	}
	for (size_t i = n; i < t->n_cells; i++)
		cells[i] = (struct span){row.s + row.n, 0};
}

/* Reads one row (all its lines) into a paper. A row without a link that reads as a paper table's
 * header starts a new table. */
static void md_row(struct parser *p, struct md *m, struct span row, struct span *cells, size_t n,
		   unsigned no)
{
	struct md_table *t = &m->table;
	struct paper paper = {.line = no};
	struct span title;
	struct md_link link;
	char date[LEX_DATE_SIZE];

	if (lex_separator_row(cells, n < MD_MAX_CELLS ? n : MD_MAX_CELLS))
		return;
	if (n > MD_MAX_CELLS) {
		parser_skip(p, no, "%zu cells, more than the %d a row may have", n, MD_MAX_CELLS);
		return;
	}
	md_fit_cells(t, cells, n, row);
	if (!md_title_link(t, cells, &title, &link)) {
		struct md_table next;

		if (md_header_strict(&next, cells, n)) {
			next.closed = t->closed;
			next.bare = t->bare;
			next.active = true;
			*t = next;
			return;
		}
		parser_skip(p, no, "no link to the paper");
		return;
	}
	if (link.arxiv)
		parse_id(p, &paper, link.id, link.version);
	else if (!parse_link(p, &paper, link.url) && paper.url == NULL) {
		parser_skip(p, no, "the link is neither an arXiv id nor an http(s) URL");
		return;
	}
	paper.date = m->date;
	if (t->col[COL_DATE] >= 0 && lex_date(cells[t->col[COL_DATE]], date))
		paper.date = arena_strndup(&p->scratch, date, LEX_DATE_SIZE - 1);
	/* A blank title is refused before it is cleaned: a row given up on stays as it was. */
	paper.title = span_trim(title).n > 0 ? lex_text(title) : "";
	if (paper.title[0] == '\0') {
		parser_skip(p, no, "empty title");
		return;
	}
	if (t->col[COL_AUTHORS] >= 0)
		paper.authors = lex_authors(&p->scratch, cells[t->col[COL_AUTHORS]],
					    &paper.n_authors, &paper.authors_truncated);
	if (t->col[COL_ABSTRACT] >= 0) {
		paper.abstract = lex_text(cells[t->col[COL_ABSTRACT]]);
		if (paper.abstract[0] == '\0')
			paper.abstract = NULL;
	}
	/* A row with cells beyond its header's may be two rows run together: it hides no paper
	 * it links from the fallback, which reads one of another id and says so. */
	parser_claim(p, row.s, row.s + row.n, no, paper.id != NULL && n <= t->n_cells);
	if (paper.abstract == NULL && paper.id != NULL)
		md_hold(p, m, &paper);
	else
		parser_emit(p, &paper);
}

/* Whether the row read so far is whole: as many cells as the header, and its closing bar when
 * the header has one. */
static bool md_row_whole(const struct md *m)
{
	struct span t = span_trim(m->row.text);

	return m->row.n >= m->table.n_cells && (!m->table.closed || t.s[t.n - 1] == '|');
}

/* Reads the row waiting for its continuation, if any. */
static void md_row_finish(struct parser *p, struct md *m)
{
	if (m->row.text.s == NULL)
		return;
	md_row(p, m, m->row.text, m->row.cells, m->row.n, m->row.line);
	m->row.text.s = NULL;
}

/* Splits the row read so far into its cells. */
static void md_row_cells(struct md *m)
{
	m->row.n = lex_cells(m->row.text, m->row.cells, MD_MAX_CELLS);
}

static void md_table_line(struct parser *p, struct md *m, struct span line, unsigned no)
{
	struct span cells[MD_MAX_CELLS];

	if (!m->table.active) {
		size_t n = lex_cells(line, cells, MD_MAX_CELLS);

		if (n > MD_MAX_CELLS)
			n = MD_MAX_CELLS;
		/* Without its outer bars, a header must name two columns: it is not prose then. */
		m->table.bare = line.s[0] != '|';
		m->table.active = m->table.bare ? md_header_strict(&m->table, cells, n)
						: md_header(&m->table, cells, n);
		m->table.closed = line.s[line.n - 1] == '|';
		if (m->table.active && !m->named) {
			p->format = md_format(&m->table);
			m->named = true;
		}
		return;
	}
	m->row.text = line;
	m->row.line = no;
	m->row.lines = 1;
	md_row_cells(m);
	if (m->table.bare || md_row_whole(m))
		md_row_finish(p, m);
}

/* Whether the text line t is one of a table written without outer bars: its header, or a row. */
static bool md_bare_line(const struct md *m, struct span t)
{
	return (!m->table.active || m->table.bare) && memchr(t.s, '|', t.n) != NULL;
}

/* Whether line goes on with the row read so far (a title the generator wrapped): a line of text
 * in the table, not a row, a heading or a blank. */
static bool md_row_continues(const struct md *m, struct span line)
{
	struct span t;

	if (m->row.text.s == NULL)
		return false;
	t = span_trim(line);
	return t.n > 0 && t.s[0] != '|' && lex_heading(line) == 0 &&
	       m->row.lines < MD_ROW_LINES_MAX;
}

/* Whether line is an arXiv-daily by-line, "2410.07177v1 by A, B": its id and version, and the
 * author list. */
static bool is_byline(struct span line, char id[ARXIV_ID_MAX], char version[ARXIV_VER_MAX],
		      struct span *authors)
{
	char *space = memchr(line.s, ' ', line.n);

	if (space == NULL || !span_starts(span_skip(line, (size_t)(space - line.s)), " by "))
		return false;
	*authors = span_skip(line, (size_t)(space - line.s) + 4);
	return lex_arxiv_id((struct span){line.s, (size_t)(space - line.s)}, id, version);
}

/* The held row of the paper a block is about, or NULL. Rows are held once per id, so the row
 * expected next is the one the map would find. */
static struct md_pending *md_find_row(struct md *m, const char *id)
{
	const uint32_t *i;

	if (m->next_row < m->n_rows && strcmp(m->rows[m->next_row].paper.id, id) == 0)
		return &m->rows[m->next_row];
	i = hmap_get(&m->pending, id, strlen(id));
	return i != NULL ? &m->rows[*i] : NULL;
}

/* Merges what the table row said into the paper of a block, which is emitted next. */
static void md_merge_row(struct md *m, struct paper *paper)
{
	struct md_pending *held = md_find_row(m, paper->id);
	const struct paper *row;

	if (held == NULL)
		return;
	held->merged = true;
	m->next_row = (size_t)(held - m->rows) + 1;
	row = &held->paper;
	paper->date = row->date;
	if (paper->version == NULL)
		paper->version = row->version;
	if (paper->title[0] == '\0')
		paper->title = row->title;
	if (paper->authors == NULL) {
		paper->authors = row->authors;
		paper->n_authors = row->n_authors;
		paper->authors_truncated = row->authors_truncated;
	}
}

/* Whether line ends an abstract block although it is no heading: a table row (the next
 * category's table), or the HTML that folds a category ("<details>", "<summary>"). */
static bool md_block_ends(struct span line)
{
	struct span t = span_trim(line);

	return t.n > 0 && (t.s[0] == '|' || span_starts(t, "<details") ||
			   span_starts(t, "</details") || span_starts(t, "<summary"));
}

/* An abstract without the HTML that folds the next category ("</details>", "<details>",
 * "<summary>..."), which the paragraph skip took in before the table that ended it. */
static struct span md_without_folding(struct span part)
{
	const char *end;

	if (part.s == NULL)
		return part;
	end = part.s + part.n;
	/* A look for '<', which abstracts hardly ever have, then whether it opens its line. */
	for (const char *lt = memchr(part.s, '<', part.n); lt != NULL;
	     lt = memchr(lt + 1, '<', (size_t)(end - lt - 1))) {
		const char *bol = lt;

		while (bol > part.s && (bol[-1] == ' ' || bol[-1] == '\t'))
			bol--;
		if (bol > part.s && bol[-1] == '\n' &&
		    md_block_ends(span_skip(part, (size_t)(lt - part.s)))) {
			part.n = (size_t)(bol - 1 - part.s);
			break;
		}
	}
	return part;
}

static void md_block_finish(struct parser *p, struct md *m)
{
	struct md_block *b = &m->block;
	struct paper paper = {.line = b->line};

	if (!b->open)
		return;
	b->open = false;
	if (b->byline.s == NULL) {
		parser_skip(p, b->line, "abstract block without an 'ID by AUTHORS' line");
		return;
	}
	for (int i = 0; i < 2; i++)
		b->part[i] = md_without_folding(b->part[i]);
	parser_claim(p, b->start, b->end, b->line, true);
	parse_id(p, &paper, b->id, b->version);
	if (parser_emitted(p, paper.id))
		return;
	paper.authors =
		lex_authors(&p->scratch, b->authors, &paper.n_authors, &paper.authors_truncated);
	paper.title = lex_text(b->title);
	if (b->part[0].s != NULL)
		paper.abstract = lex_text(b->part[0]);
	if (b->part[1].s != NULL)
		paper.translation = lex_text(b->part[1]);
	md_merge_row(m, &paper);
	parser_emit(p, &paper);
}

/* Whether line starts the translated abstract ("摘要：..."); *label is the label's length. */
static bool is_translation(struct span line, size_t *label)
{
	/* Most lines are ASCII: one byte tells them apart before any comparison. */
	if (line.n == 0 || (unsigned char)line.s[0] != 0xe6)
		return false;
	if (span_starts(line, TRANSLATION_LABEL))
		*label = strlen(TRANSLATION_LABEL);
	else if (span_starts(line, TRANSLATION_LABEL_ASCII))
		*label = strlen(TRANSLATION_LABEL_ASCII);
	else
		return false;
	return true;
}

/* One line of an abstract block. Called for every line of every abstract, so it looks at as
 * little as it can: the part being read simply grows to the end of the line. */
static void md_block_line(struct md *m, struct span line)
{
	struct md_block *b = &m->block;
	struct span *part;
	size_t label;

	b->end = line.s + line.n;
	if (b->cur < 0) {
		struct span t = span_trim(line);

		if (t.n == 0)
			return;
		b->cur = 0;
		if (is_byline(t, b->id, b->version, &b->authors)) {
			b->byline = t;
			return;
		}
	}
	if (is_translation(line, &label)) {
		b->cur = 1;
		b->part[1] = span_skip(line, label);
		return;
	}
	part = &b->part[b->cur];
	if (part->s != NULL)
		part->n = (size_t)(line.s + line.n - part->s);
	else if (span_trim(line).n > 0)
		*part = line;
}

/* Takes in the paragraph lines after a block line in one step: only a line starting with '#'
 * (a heading), with the first byte of the translation label, or with a bar (the next table, in
 * a digest that has no heading between) can change anything. */
static void md_block_skip(struct md *m, struct lines *it)
{
	struct md_block *b = &m->block;
	struct span body = lines_skip_to(it, '#', TRANSLATION_LABEL[0], '|');
	struct span *part = &b->part[b->cur];

	if (body.n > 0)
		b->end = body.s + body.n;
	if (part->s != NULL)
		part->n = (size_t)(body.s + body.n - part->s);
	else if (span_trim(body).n > 0)
		*part = span_trim(body);
}

static void md_heading(struct parser *p, struct md *m, struct span line, unsigned no)
{
	size_t level = 0;
	struct span rest;
	char date[LEX_DATE_SIZE];

	md_block_finish(p, m);
	m->table.active = false;
	while (level < line.n && line.s[level] == '#')
		level++;
	rest = span_trim(span_skip(line, level));
	if (level == 2 && span_starts(rest, "Papers for ")) {
		if (lex_date(span_skip(rest, strlen("Papers for ")), date))
			m->date = arena_strndup(&p->keep, date, LEX_DATE_SIZE - 1);
	} else if (level == 3) {
		md_flush(p, m); /* a new category: its table comes next */
		m->in_abstracts = false;
	} else if (level == 4 && span_is(rest, "Abstracts")) {
		m->in_abstracts = true;
	} else if (level == 5 && m->in_abstracts) {
		m->block = (struct md_block){.open = true,
					     .start = line.s,
					     .end = line.s + line.n,
					     .line = no,
					     .title = rest,
					     .cur = -1};
	}
}

static void *md_start(struct parser *p)
{
	struct md *m = arena_alloc(&p->keep, sizeof(*m));

	memset(m, 0, sizeof(*m));
	hmap_init(&m->pending);
	arena_init(&m->rows_arena);
	return m;
}

static size_t md_feed(struct parser *p, void *state, char *text, size_t len, bool last)
{
	struct md *m = state;
	struct lines it;
	struct span line;

	lines_init(&it, text, len, p->line);
	while (lines_next(&it, &line)) {
		struct span t;

		if (md_row_continues(m, line)) {
			m->row.text.n = (size_t)(line.s + line.n - m->row.text.s);
			m->row.lines++;
			md_row_cells(m);
			if (md_row_whole(m))
				md_row_finish(p, m);
			continue;
		}
		md_row_finish(p, m);
		if (lex_heading(line) > 0) {
			md_heading(p, m, line, it.no);
		} else if (m->block.open && !md_block_ends(line)) {
			md_block_line(m, line);
			if (m->block.cur >= 0)
				md_block_skip(m, &it);
		} else {
			md_block_finish(p, m); /* when open, a row or <details> ended it */
			t = span_trim(line);
			if (t.n > 0 && (t.s[0] == '|' || md_bare_line(m, t)))
				md_table_line(p, m, t, it.no);
			else if (t.n > 0) /* a blank line does not end a table; text does */
				m->table.active = false;
		}
	}
	if (m->row.text.s != NULL && !last) {
		/* The row may go on in the text to come: give it back, untouched. */
		size_t used = (size_t)(m->row.text.s - text);

		p->line = m->row.line;
		m->row.text.s = NULL;
		return used;
	}
	md_row_finish(p, m);
	if (m->block.open && !last) {
		/* The block may go on in the text to come: give it back, untouched. */
		m->block.open = false;
		p->line = m->block.line;
		return (size_t)(m->block.start - text);
	}
	md_block_finish(p, m);
	p->line = it.no + 1;
	return len;
}

static void md_end(struct parser *p, void *state)
{
	md_flush(p, state);
}

static void md_free(void *state)
{
	struct md *m = state;

	free(m->rows);
	hmap_free(&m->pending);
	arena_free(&m->rows_arena);
}

const struct format format_table = {
	.name = "markdown",
	.detect = md_detect,
	.start = md_start,
	.feed = md_feed,
	.end = md_end,
	.free = md_free,
};
