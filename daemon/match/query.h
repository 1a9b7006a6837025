/*
 * match/query.h — the interest-rule query language: a rule's query parsed into its terms (folded
 * words, arXiv ids, compiled regular expressions) and a boolean tree over them, or refused with a
 * message and the column it is about. The matcher (match.h) compiles many parsed queries together.
 */
#ifndef PW_QUERY_H
#define PW_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "match.h"
#include "rx.h"

/* Limits that keep a query, its parse and its evaluation bounded. */
#define QUERY_MAX_BYTES  10000
#define QUERY_MAX_DEPTH  64
#define QUERY_MAX_TERMS  1000
#define QUERY_MAX_PHRASE 64
/* A library's name in like:NAME, at most. */
#define QUERY_MAX_LIKE_NAME 64

/* Bit of a field in a term's set of fields. */
#define QUERY_FIELD(f) (1u << (f))
/* A term written without a field. */
#define QUERY_UNFIELDED                                                                            \
	(QUERY_FIELD(MATCH_TITLE) | QUERY_FIELD(MATCH_AUTHORS) | QUERY_FIELD(MATCH_ABSTRACT))

enum query_kind {
	QUERY_WORDS, /* a word, prefix or phrase: one or more folded words */
	QUERY_ID,    /* an arXiv id, or a prefix of one */
	QUERY_REGEX,
	QUERY_LIKE, /* like:NAME, a library's name: whether the paper is like its papers */
};

struct query_word {
	const char *s; /* folded (text.h), NUL-terminated */
	uint32_t len;
	bool nospace; /* one character of a script written without spaces: no plural */
};

struct query_term {
	enum query_kind kind;
	unsigned fields;          /* QUERY_FIELD bits */
	bool prefix;              /* the last word, or the id, is a prefix */
	bool negative;            /* under an odd number of NOTs: its hits are never reported */
	const char *text;         /* as written in the query, quotes and slashes included */
	unsigned column;          /* where it starts in the query, 1-based, in characters */
	struct query_word *words; /* QUERY_WORDS */
	size_t n_words;
	const char *id; /* QUERY_ID: lower case; QUERY_LIKE: the library's name */
	size_t id_len;
	struct rx *rx; /* QUERY_REGEX: owned by the query until someone takes it (sets NULL) */
};

enum query_op { QUERY_TERM, QUERY_AND, QUERY_OR, QUERY_NOT };

/* The tree in prefix order: a node's children follow it, each child's subtree whole. Children
 * holding a regular expression come after the others, so evaluation that stops early runs
 * fewer regular expressions. */
struct query_node {
	enum query_op op;
	unsigned arg;  /* QUERY_TERM: the term; QUERY_AND, QUERY_OR: the number of children */
	unsigned size; /* nodes in the subtree, this one included */
};

struct query {
	struct query_term *terms; /* in the order they are written */
	size_t n_terms;
	struct query_node *nodes;
	size_t n_nodes;
	struct arena arena; /* the terms' strings and words */
};

/* Parses text into q. On -1, qe says what is wrong and where, and q holds nothing to free. */
int query_parse(struct query *q, const char *text, struct query_error *qe);

/* Frees what q holds, the regular expressions nobody took included. NULL is a no-op. */
void query_free(struct query *q);

#endif
