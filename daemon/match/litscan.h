/*
 * match/litscan.h — finding many short literal texts (the literals of regular expressions, rx.h) in
 * a paper's strings at once, with far fewer steps than bytes: every three-byte group of every
 * literal is indexed, and the text is sampled at a stride no literal can slip through.
 */
#ifndef PW_LITSCAN_H
#define PW_LITSCAN_H

#include <stddef.h>
#include <stdint.h>

/* The fewest bytes a literal may have: with three-byte groups, this makes the stride two. */
#define LITSCAN_MIN 4

struct litscan;

/* An empty set of literals; the caller owns it. */
struct litscan *litscan_new(void);

/* NULL is a no-op. */
void litscan_free(struct litscan *ls);

/* Adds literal s[0..n), n >= LITSCAN_MIN, and returns its number (0, 1, ...). s is not copied:
 * it must live as long as the set. */
uint32_t litscan_add(struct litscan *ls, const char *s, size_t n);

/* Indexes what was added; no litscan_add after it. */
void litscan_build(struct litscan *ls);

/* Receives the number of a literal found; may be called more than once for one literal. */
typedef void (*litscan_fn)(void *ctx, uint32_t lit);

/* Calls found for every literal that occurs in text[0..n). The comparison is of bytes: the
 * caller lower-cases both sides. */
void litscan_find(const struct litscan *ls, const char *text, size_t n, litscan_fn found,
		  void *ctx);

#endif
