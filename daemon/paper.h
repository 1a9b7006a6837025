/*
 * paper.h — one paper as a digest describes it, and its JSON form.
 */
#ifndef PW_PAPER_H
#define PW_PAPER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "arena.h"

/* Strings are NUL-terminated valid UTF-8; NULL means the digest does not say. Who owns them
 * depends on where the paper comes from: a paper handed out by the parser lives only until the
 * callback returns (paper_copy keeps one). */
struct paper {
	const char *id;       /* arXiv id without version: "2410.07177", "hep-th/9901001" */
	const char *version;  /* "v1" */
	const char *title;    /* never NULL */
	const char **authors; /* n_authors names; NULL when the digest names none */
	size_t n_authors;
	bool authors_truncated; /* the digest cut the list short ("X et.al.") */
	const char *abstract;
	const char *translation; /* a translated abstract given beside the original */
	const char *date;        /* YYYY-MM-DD */
	const char *url;    /* https://arxiv.org/abs/ID, or the digest's own link without an id */
	const char *source; /* the digest's file name */
	const char *format; /* the digest's format name */
	unsigned line;      /* where the record starts in the file, for messages */
};

/* Makes c a deep copy of p, its strings in the arena. */
void paper_copy(struct arena *a, struct paper *c, const struct paper *p);

/* The paper as a JSON object with the keys of `paperwatch parse`; the caller owns it. */
json_t *paper_json(const struct paper *p);
/* The paper paper_json gave, read back into p, its strings in the arena; -1 when o is not one
 * (no title). Only the format name is not kept: it is not needed past the parse. */
int paper_from_json(struct arena *a, struct paper *p, const json_t *o);

#endif
