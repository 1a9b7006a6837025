/*
 * match/match.h — matching papers against users' interest rules. Every rule is a query (the
 * language is in the README, "Interest rules: the query language"); all rules are compiled
 * together, so a paper's text is folded and cut into words once and each word looked up in one
 * dictionary, whatever the number of rules. Hits come with the exact bytes they cover, for
 * highlighting.
 */
#ifndef PW_MATCH_H
#define PW_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "paper.h"

enum match_field { MATCH_TITLE, MATCH_AUTHORS, MATCH_ABSTRACT, MATCH_ID };

/* Why a query was refused: column is 1-based, counted in characters of the query. */
/* What a parse has to say: why a query is refused, or, for one that loads, what it may not mean as
 * written (warning[0] is '\0' when nothing). */
struct query_error {
	unsigned column;
	char msg[200];
	unsigned warning_column;
	char warning[400];
};

/* One place a term of a rule matched. */
struct match_hit {
	unsigned term; /* which term of the rule: matcher_term_text() gives it as written */
	enum match_field field;
	unsigned author;   /* for MATCH_AUTHORS: index into paper->authors */
	size_t start, end; /* byte range of the matched text in that field's ORIGINAL string */
};

/* Receives a matching rule; hits is valid only until it returns. */
typedef void (*match_fn)(void *ctx, unsigned rule, const struct match_hit *hits, size_t n_hits);

struct matcher;

/* An empty matcher; the caller owns it. */
struct matcher *matcher_new(void);

/* NULL is a no-op. */
void matcher_free(struct matcher *m);

/* Adds a rule and returns its index (0, 1, ... in the order added), or -1 with qe filled when
 * the query is refused. */
int matcher_add(struct matcher *m, const char *query, struct query_error *qe);

/* Checks a query without keeping it: 0, or -1 with qe filled exactly as matcher_add would. */
int matcher_check(const char *query, struct query_error *qe);

/* Says whether like:name holds for paper p under rule `rule` (the threshold is the rule's). */
typedef bool (*match_like_fn)(void *ctx, unsigned rule, const char *name, const struct paper *p);

/* Sets who answers like: terms; with none, every like: term is false. Called at most once per
 * term of a rule and paper, in the middle of matcher_match: fn must not match. */
void matcher_set_like(struct matcher *m, match_like_fn fn, void *ctx);

/* The library named by the i-th like: term of rule (0, 1, ... as written), or NULL past the
 * last; a name may come twice. */
const char *matcher_like_name(const struct matcher *m, unsigned rule, size_t i);

/* Builds the shared dictionary; call once after the last add (matcher_match does it if rules
 * were added since). */
void matcher_compile(struct matcher *m);

size_t matcher_count(const struct matcher *m);

/* Calls fn for each matching rule in rule order; hits (the positive terms that hit, with exact
 * byte ranges in the paper's original strings) only when explain is true, else NULL and 0.
 * Hits come ordered by term, then field (title, authors in order, abstract, id), then position;
 * a word or prefix hit covers the whole word (plural ending included), a phrase hit runs from
 * its first word to its last. Returns the count. The matcher keeps scratch space between calls:
 * one call at a time, and fn must not call matcher_match. */
size_t matcher_match(struct matcher *m, const struct paper *p, bool explain, match_fn fn,
		     void *ctx);

/* Term `term` of rule `rule` (terms are numbered 0, 1, ... as written, negated ones included),
 * as written in the query, e.g. `agent*`, `"tool use"`, `/diffusion (model|policy)/`; NULL
 * when there is no such term. */
const char *matcher_term_text(const struct matcher *m, unsigned rule, unsigned term);

/* The number of terms of rule `rule`; 0 when there is no such rule. */
size_t matcher_term_count(const struct matcher *m, unsigned rule);

/* Whether rule can match only papers that have field f: whether it can never hold when its
 * terms that search f alone (author:...) find nothing. */
bool matcher_needs_field(const struct matcher *m, unsigned rule, enum match_field f);

/* Whether some rule has a regular-expression term. */
bool matcher_has_regex(const struct matcher *m);

/* Whether regular-expression terms run as machine code here (PCRE2's JIT): 0, or -1 with the
 * reason they are interpreted, slower but alike, in why. */
int matcher_jit_probe(char *why, size_t why_size);

/* "title", "author", "abstract", "id" */
const char *match_field_name(enum match_field f);

#endif
