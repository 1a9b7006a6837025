/*
 * match/dict.h — the matcher's dictionary: every word key of every rule (a word, its plurals, a
 * prefix, an arXiv id), each with postings that name the terms it stands for. Built once, then
 * looked up for every word of every paper, so the lookup is inline and reads keys eight bytes at a
 * time.
 */
#ifndef PW_DICT_H
#define PW_DICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "hmap.h"

/* What a key stands for: a term of the matcher, in some fields. */
struct dict_posting {
	uint32_t term;
	uint8_t fields;     /* the term's field bits, DICT_PHRASE, DICT_NEIGHBOUR, DICT_BEFORE,
			     * DICT_START */
	uint8_t anchor;     /* which word of the term the key is */
	uint16_t neighbour; /* with DICT_NEIGHBOUR, dict_fingerprint() of the word after the
			     * anchor (before it, when the anchor is last) */
};

/* The term has more words, to confirm by position. */
#define DICT_PHRASE 0x80
/* The posting holds a fingerprint of a neighbouring word, to rule most places out cheaply: the
 * word after the anchor, or with DICT_BEFORE the word before it. */
#define DICT_NEIGHBOUR 0x40
#define DICT_BEFORE    0x20
/* The word after the anchor is a prefix, which has no one hash: the posting holds its first two
 * bytes instead, which the word there must start with. */
#define DICT_START 0x10

/* A key and its postings: n_exact that need the whole word to be the key, then n_prefix for
 * which the key may be a prefix of the word. Empty when len is 0. */
struct dict_slot {
	uint64_t head;   /* the key's first eight bytes, dict_head() */
	const char *key; /* followed by at least eight readable bytes */
	uint32_t len;
	uint32_t first, n_exact, n_prefix; /* postings[first ...] */
};

/* The prefix keys of DICT_HEAD bytes or more that start with the same DICT_HEAD bytes: the
 * slots of keys head_keys[first ... first + n), shortest first. Empty when n is 0. */
struct dict_head {
	uint64_t head; /* the first DICT_HEAD bytes, dict_start() */
	uint32_t first, n;
};

struct dict {
	struct dict_slot *slots;
	uint32_t mask; /* slots - 1, a power of two less one */
	size_t n_keys;
	struct dict_posting *postings;
	uint32_t *pfx_lens; /* the lengths prefix keys shorter than DICT_HEAD have, ascending */
	size_t n_pfx_lens;
	uint64_t *filter;      /* a bit per key's hash: most words of a paper are no key */
	uint64_t *pfx_filter;  /* the same for prefix keys alone */
	uint64_t *head_filter; /* a bit per group of heads[], by dict_head_hash(): most words share
				* no start with any prefix key */
	struct dict_head *heads; /* the groups of longer prefix keys, by their first bytes */
	uint32_t heads_mask;
	uint32_t *head_keys;
	/* While building. */
	struct arena arena;
	struct hmap index; /* key -> its number */
	struct dict_pending *pending;
	size_t n_pending, cap_pending;
};

/* The bytes of a word's start by which the prefix keys it may have are found at once: one
 * lookup for all of them, whatever their lengths. */
#define DICT_HEAD 5

/* Bits in the filters, indexed by the top bits of a hash. */
#define DICT_FILTER_BITS 16

void dict_init(struct dict *d);
void dict_free(struct dict *d);

/* Adds a posting for key[0..len) (len > 0), as a prefix or as a whole word. */
void dict_add(struct dict *d, const char *key, size_t len, bool prefix, struct dict_posting p);

/* Lays the keys and postings out for lookups; no dict_add after it. */
void dict_build(struct dict *d);

/* The first eight bytes at p, those past n (when n < 8) zeroed; p + 8 must be readable. Shifted
 * out and back rather than masked after a test of n: the lengths of a paper's words come at
 * random, and so would the test's outcome. Each shift is done in two halves, so that n = 0
 * (a shift of 64) is defined too. */
static inline uint64_t dict_head(const char *p, uint32_t n)
{
	uint64_t x;
	uint32_t half = 4 * (8 - (n < 8 ? n : 8));

	memcpy(&x, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return x >> half >> half << half << half;
#else
	return x << half << half >> half >> half;
#endif
}

/* A hash of the n > 0 bytes at p, eight at a time; p + n + 8 must be readable. */
static inline uint32_t dict_hash(const char *p, uint32_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull * (n + 1);

	for (; n > 8; p += 8, n -= 8) {
		uint64_t x;

		memcpy(&x, p, 8);
		h = (h ^ x) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	h = (h ^ dict_head(p, n)) * 0xff51afd7ed558ccdull;
	return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* The first DICT_HEAD bytes at p as a number; p + 8 must be readable. */
static inline uint64_t dict_start(const char *p)
{
	return dict_head(p, DICT_HEAD);
}

/* A hash of dict_start(): the bit of its group in head_filter, and where heads[] starts it. */
static inline uint32_t dict_head_hash(uint64_t head)
{
	return (uint32_t)((head * 0x9e3779b97f4a7c15ull) >> 32);
}

/* The group of prefix keys that start with head, or NULL. */
static inline const struct dict_head *dict_find_head(const struct dict *d, uint64_t head,
						     uint32_t h)
{
	for (uint32_t i = (h >> 16 ^ h) & d->heads_mask;; i = (i + 1) & d->heads_mask) {
		const struct dict_head *g = &d->heads[i];

		if (g->n == 0)
			return NULL;
		if (g->head == head)
			return g;
	}
}

/* Sixteen bits of a hash, to tell words apart without reading them (a false "same" now and
 * then is allowed, a false "different" never). */
static inline uint16_t dict_fingerprint(uint32_t h)
{
	return (uint16_t)(h >> 8);
}

/* The slot of key p[0..n) whose hash is h, or NULL. */
static inline const struct dict_slot *dict_find(const struct dict *d, const char *p, uint32_t n,
						uint32_t h)
{
	uint64_t head = dict_head(p, n);

	for (uint32_t i = h & d->mask;; i = (i + 1) & d->mask) {
		const struct dict_slot *s = &d->slots[i];

		if (s->len == 0)
			return NULL;
		if (s->head == head && s->len == n &&
		    (n <= 8 || memcmp(s->key + 8, p + 8, n - 8) == 0))
			return s;
	}
}

/* Whether filter (d->filter or d->pfx_filter) may hold a key of hash h: a test that costs one
 * bit in cache before dict_find, which costs a probe of the table. */
static inline bool dict_may_have(const uint64_t *filter, uint32_t h)
{
	uint32_t bit = h >> (32 - DICT_FILTER_BITS);

	return (filter[bit >> 6] >> (bit & 63)) & 1;
}

#endif
