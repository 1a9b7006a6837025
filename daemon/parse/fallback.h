/*
 * parse/fallback.h — no paper lost in silence. Every link to an arXiv paper in a digest is found,
 * whatever the format; a link that no record of the format read (a row the format could not make
 * sense of, a layout it does not know) still becomes a paper, from the line around it.
 */
#ifndef PW_PARSE_FALLBACK_H
#define PW_PARSE_FALLBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hmap.h"
#include "lex.h"

struct parser;

/* Text a format read as a record. The format may have cleaned it in place, so no line is counted
 * in it. When the record has an arXiv id, the links in it are its own, or citations. */
struct fallback_claim {
	size_t from, to;
	unsigned line; /* the line text[from] is on */
	bool names_paper;
};

/* A link no record claimed, kept until the end of the file in case a record reads it later. */
struct fallback_orphan {
	char *id, *version, *title; /* in the parser's keep arena */
	unsigned line;
};

struct fallback {
	struct fallback_claim *claims;
	size_t n_claims, cap_claims;
	struct fallback_orphan *orphans;
	size_t n_orphans, cap_orphans;
	struct hmap orphan_ids; /* id -> index in orphans */
};

void fallback_init(struct fallback *f);
void fallback_free(struct fallback *f);

/* After a feed: keeps each paper link of text[0..used) that no claim covers and no paper has, as
 * an orphan, then forgets the feed's claims. text[used] is on line used_line. The text between
 * claims is as the file has it; the claims' own text the format may have cleaned in place. */
void fallback_collect(struct parser *p, char *text, size_t used, unsigned used_line);

/* At the end of the file: emits, as read by the fallback, every orphan no record read. */
void fallback_emit(struct parser *p);

#endif
