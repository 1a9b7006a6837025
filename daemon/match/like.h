/*
 * match/like.h — how like a paper is to a researcher's library: a sparse lexical model
 * (sublinear TF-IDF over Snowball stems and the title's word bigrams, the title weighing twice
 * the abstract), cosine similarity to every library paper at once through an inverted index,
 * and, as the score in [0, 1], the mean of the best LIKE_TOP_K of them blended with the cosine
 * to the library's centroid. The IDF is learnt from the library and from the papers seen so
 * far (like_observe): the same papers seen in the same order give the same scores.
 */
#ifndef PW_LIKE_H
#define PW_LIKE_H

#include <stddef.h>

#include "library.h"
#include "paper.h"

/* The library papers whose similarities are averaged into the score... */
#define LIKE_TOP_K 3
/* ...which weighs this much in it, the similarity to the library's centroid the rest: the
 * centroid tells a topic best (tests/bench/like_quality.py), the closest papers that one
 * paper of the library close to a new one counts. */
#define LIKE_CLOSEST_SHARE 0.2
/* The terms an explanation names. */
#define LIKE_WHY_TERMS 3
/* A paper's distinct terms counted, at most (a huge abstract costs no more). */
#define LIKE_MAX_TERMS 4096
/* Words longer than this are not words (URLs, formulas) and are skipped. */
#define LIKE_MAX_WORD 48
/* How much more an occurrence in the title weighs than one in the abstract. */
#define LIKE_TITLE_WEIGHT 2.0
/* What a pair of the title's words weighs beside one word. */
#define LIKE_BIGRAM_WEIGHT 0.5

struct like;

/* Why a paper scored what it did. */
struct like_why {
	double score;
	double closest_sim;  /* its similarity to the closest library paper */
	const char *closest; /* that paper's title (the library's), NULL when nothing is close */
	const char *terms[LIKE_WHY_TERMS]; /* the terms that brought the most, most first */
	size_t n_terms;
};

/* An index of the entries of f that have text (title or abstract); the caller owns it. The
 * file may be freed afterwards. */
struct like *like_new(const struct library_file *f);

/* NULL is a no-op. */
void like_free(struct like *lk);

/* The library papers indexed: those with text. */
size_t like_size(const struct like *lk);

/* Counts p's terms into the IDF: call once for every paper seen, before scoring it. */
void like_observe(struct like *lk, const struct paper *p);

/* The score of p against the library, in [0, 1]; why (may be NULL) says what it came from.
 * The index keeps scratch space: one call at a time. */
double like_score(struct like *lk, const struct paper *p, struct like_why *why);

/* Bytes the index holds, for the memory benchmark and `check-config`. */
size_t like_bytes(const struct like *lk);

#endif
