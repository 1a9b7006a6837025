/*
 * parse/lex.h — the pieces every digest format is made of: lines, table cells, links, arXiv ids,
 * dates, author lists, and field text cleaned in place.
 */
#ifndef PW_LEX_H
#define PW_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* A run of bytes inside the digest text; not NUL-terminated until lex_text() makes it so. */
struct span {
	char *s;
	size_t n;
};

struct lines {
	char *p, *end;
	unsigned no; /* number of the line last returned, from 1 */
};

/* Iterates over text; the first line is numbered first_no. */
void lines_init(struct lines *it, char *text, size_t len, unsigned first_no);
/* The next line without its "\n" or "\r\n"; false after the last. */
bool lines_next(struct lines *it, struct span *line);

/* For tests: whether the scans may use AVX2 where the processor has it, as they do unless told
 * otherwise, so that the 16-byte scans other processors run are tested too. */
void lex_allow_avx2(bool allow);

/* The number of line breaks in s[0..n). */
unsigned lex_count_lines(const char *s, size_t n);

/* Skips to the next line that starts with byte a, b or c (or to the end), counting the lines it
 * passes; returns the text skipped over, which ends with its last line break. */
struct span lines_skip_to(struct lines *it, char a, char b, char c);

struct span span_trim(struct span s);
/* Whether s starts with prefix, comparing ASCII letters case-insensitively. */
bool span_starts(struct span s, const char *prefix);
/* Whether s, trimmed and without surrounding bold markers, is word (case-insensitive). */
bool span_is(struct span s, const char *word);
/* s trimmed, without the emphasis markers around it ("**Title**", "_Title_", "**Title:"): the
 * key of a "Key: value" line. */
struct span lex_unemphasis(struct span s);
/* s without its first n bytes. */
struct span span_skip(struct span s, size_t n);

/* Splits a table row at its unescaped '|'; stores at most max cells, returns how many there are. */
size_t lex_cells(struct span row, struct span *cells, size_t max);
/* Whether the cells are a header separator such as |---|:---:|. */
bool lex_separator_row(const struct span *cells, size_t n);

/* Finds the first Markdown link "[text](url)" in s; before is what precedes it. */
bool lex_link(struct span s, struct span *before, struct span *text, struct span *url);

/* Longest arXiv id ("2410.07177", "hep-th/9901001"): the length written into id, with room for a
 * NUL; version ("v2") likewise. */
#define ARXIV_ID_MAX  40
#define ARXIV_VER_MAX 8

/* Finds the arXiv id in an arXiv or Hugging Face papers URL, an arXiv DOI, or bare text
 * ("2410.07177v1", "arXiv:2410.07177", "**arXiv:** 2410.07177"). Writes it and its version (""
 * when absent). */
bool lex_arxiv_id(struct span s, char id[ARXIV_ID_MAX], char version[ARXIV_VER_MAX]);

/* Finds the links to arXiv papers in a text, in order: an arXiv URL (any subdomain, abs, pdf or
 * html, versioned or not), a Hugging Face papers URL or an arXiv DOI, with or without its scheme,
 * or an "arXiv:ID" label. */
struct link_scan {
	struct span text;
	size_t pos; /* where the next search starts */
};

void link_scan_init(struct link_scan *ls, struct span text);
/* The next paper link: its URL as written, and the id and version ("" when none) it names. */
bool link_scan_next(struct link_scan *ls, struct span *url, char id[ARXIV_ID_MAX],
		    char version[ARXIV_VER_MAX]);

/* Whether a link's text names nothing: empty, an address or an id, or a word such as "PDF". */
bool lex_names_nothing(struct span text);

/* The length of the HTML tag opening s ("<td>", "</a>", "<img src=...>"), or 0 when the '<'
 * opens none ("a < b"; "<https://...>" counts as one). */
size_t lex_html_tag(struct span s);

/* The level of an ATX heading ("## Title": 2), or 0 when line is not one. */
size_t lex_heading(struct span line);
/* Whether line is a list item ("- ", "* ", "+ ", "1. ", "1) "): its text without the marker, and
 * the blanks before the marker. */
bool lex_list_item(struct span line, struct span *content, size_t *indent);

/* The length of the separator or symbol character at s (UTF-8): the general punctuation (but
 * quotation marks), arrows and symbols of U+2000-U+2BFF, the middle dot, emoji and their
 * variation selector, which
 * generators put between and before links and titles ("\xf0\x9f\x93\x84 Title"); 0 for any
 * other. */
size_t lex_symbol_len(struct span s);

/* A title without what generators write around it: list numbers, markers and an HTML anchor
 * before it ("<a id=...></a>"), a wiki link's brackets ("[[Title]]"), and separators,
 * phrases such as " - read more on" and an attribute block ("{#anchor}") after it. */
struct span lex_title_trim(struct span s);

/* A date as lex_date writes it, "YYYY-MM-DD", and its NUL. */
#define LEX_DATE_SIZE 11

/* Reads a date written as 2024-10-09, "31st October 2024", "October 31, 2024" or "31 Oct 2024"
 * (bold markers allowed) into YYYY-MM-DD. */
bool lex_date(struct span s, char out[LEX_DATE_SIZE]);

/* Cleans the field s in place and NUL-terminates it: surrounding whitespace trimmed, each line
 * break or control byte (with the whitespace around it) made one space, Markdown escapes ("\|")
 * and bold markers ("**") undone. The byte just after s becomes the NUL, so the caller must be
 * done with it. The text must already be valid UTF-8. */
char *lex_text(struct span s);

/* Splits an author list at commas, semicolons and " and "; a trailing "et al." (or "et.al.")
 * sets *truncated. Returns NULL, with *n = 0, when no name is left. The names are cleaned in
 * place; the array is in the arena. */
const char **lex_authors(struct arena *a, struct span s, size_t *n, bool *truncated);

#endif
