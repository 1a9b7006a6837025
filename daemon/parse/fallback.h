/*
 * parse/fallback.h — no paper lost in silence. Every link to an arXiv paper in a digest is found,
 * whatever the format; a link that no record of the format read (a row the format could not make
 * sense of, a layout it does not know) still becomes a paper, from the line around it.
 */
#ifndef PW_PARSE_FALLBACK_H
#define PW_PARSE_FALLBACK_H

#include <stdbool.h>
#include <stddef.h>

#include "hmap.h"
#include "lex.h"

struct parser;

/* A paper link found in the text being fed. */
struct fallback_link {
	size_t at, len;    /* its URL, as offsets in the text */
	size_t line_start; /* where its line starts */
	unsigned line;
	char id[ARXIV_ID_MAX];
	char version[ARXIV_VER_MAX];
};

/* Text a format read as a record: links inside it are the record's (its own, or citations). */
struct fallback_claim {
	size_t from, to;
};

/* A link no record claimed, kept until the end of the file in case a record reads it later. */
struct fallback_orphan {
	char *id, *version, *title; /* in the parser's keep arena */
	size_t line_start;          /* where its line starts */
	unsigned line;
};

struct fallback {
	struct fallback_link *links;
	size_t n_links, cap_links;
	struct fallback_claim *claims;
	size_t n_claims, cap_claims;
	struct fallback_orphan *orphans;
	size_t n_orphans, cap_orphans;
	struct hmap orphan_ids; /* id -> index in orphans */
};

void fallback_init(struct fallback *f);
void fallback_free(struct fallback *f);

/* Before a feed: finds every paper link in text[0..len), which the format has not touched yet;
 * the text's first line is numbered first_line. */
void fallback_scan(struct fallback *f, char *text, size_t len, unsigned first_line);

/* After it: keeps each link of text[0..used) that no claim covers and no paper has, as an orphan,
 * then forgets the feed's links and claims. */
void fallback_collect(struct parser *p, char *text, size_t used);

/* At the end of the file: emits, as read by the fallback, every orphan no record read. */
void fallback_emit(struct parser *p);

#endif
