/*
 * match/like.h — how like a paper is to a researcher's library: a sparse lexical model
 * (sublinear TF-IDF over Snowball stems and the title's word bigrams, the title weighing twice
 * the abstract), and, as the score in [0, 1], the cosine with the library's centroid less a
 * share of the centroid of the papers seen (Rocchio's negative feedback: what every digest
 * says is no sign of the library's topic). The IDF is learnt from the papers seen so far
 * (like_observe), from the library too until there are enough of them; the closest library
 * paper, for the explanation, is found through an inverted index. The same papers seen in the
 * same order give the same scores.
 */
#ifndef PW_LIKE_H
#define PW_LIKE_H

#include <stddef.h>

#include "err.h"
#include "library.h"
#include "paper.h"

/* The share of the papers seen's centroid taken from the library's: the words of every
 * digest (a field's common vocabulary) stop counting for the library, its own words count
 * more. Measured (tests/bench/like_quality.py), 0.3 ranks better than none on nearly every
 * pair of topics; past 0.4 a library whose topic fills much of the digests starts to lose its
 * own words. */
#define LIKE_BACKGROUND 0.3
/* Once this many papers are seen, the IDF is theirs alone: the library is one topic, and
 * counting it would make its own words look common. Before, the library counts too. */
#define LIKE_IDF_SEEN_MIN 100
/* The IDF is raised to this power: in a cosine of two TF-IDF vectors a word weighs its IDF
 * squared, and a word met once in the papers seen would outweigh the topic's vocabulary. */
#define LIKE_IDF_POWER 0.8
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

/* Loads the Snowball stemmer, once, for the indexes to come: -1 with err set when it cannot be.
 * like_new() loads it too, and without it stems nothing; callers call this first to say why. */
int like_load(struct err *err);

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

/* The score of p against the library, in [0, 1]; why (may be NULL) says what it came from,
 * and asking for it costs a walk of the postings of p's terms. The index keeps scratch space:
 * one call at a time. */
double like_score(struct like *lk, const struct paper *p, struct like_why *why);

/* Bytes the index holds, for the memory benchmark and `check-config`. */
size_t like_bytes(const struct like *lk);

#endif
