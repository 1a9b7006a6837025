/*
 * match/dict.c — building the matcher's dictionary: keys gathered in a string map while rules are
 * compiled, then laid out in one open-addressing table of fixed-size slots (the key's first eight
 * bytes inline, so most lookups touch one cache line) and one array of postings, grouped by key.
 */
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "xmalloc.h"

/* A posting waiting for the layout. */
struct dict_pending {
	uint32_t key; /* the key's number, in the order keys were first added */
	bool prefix;
	struct dict_posting p;
};

void dict_init(struct dict *d)
{
	memset(d, 0, sizeof(*d));
	arena_init(&d->arena);
	hmap_init(&d->index);
}

void dict_free(struct dict *d)
{
	if (d == NULL)
		return;
	free(d->slots);
	free(d->postings);
	free(d->pfx_lens);
	free(d->filter);
	free(d->pfx_filter);
	free(d->head_filter);
	free(d->heads);
	free(d->head_keys);
	free(d->pending);
	hmap_free(&d->index);
	arena_free(&d->arena);
	dict_init(d);
}

void dict_add(struct dict *d, const char *key, size_t len, bool prefix, struct dict_posting p)
{
	bool existed;
	struct hmap_slot *slot = hmap_put(&d->index, key, len, &existed);

	if (!existed) {
		/* Eight zero bytes after the key, so that it too can be read eight at a time. */
		char *copy = arena_alloc(&d->arena, len + 8);

		memcpy(copy, key, len);
		memset(copy + len, 0, 8);
		slot->key = copy;
		slot->value = (uint32_t)d->n_keys++;
	}
	d->pending = xgrow(d->pending, &d->cap_pending, d->n_pending + 1, sizeof(*d->pending));
	d->pending[d->n_pending++] = (struct dict_pending){slot->value, prefix, p};
}

/* Puts a key in the table, with its postings from *at on; returns its slot. */
static uint32_t place(struct dict *d, const char *key, uint32_t len, const uint32_t *counts,
		      uint32_t *at)
{
	uint32_t i = dict_hash(key, len) & d->mask;

	while (d->slots[i].len != 0)
		i = (i + 1) & d->mask;
	d->slots[i] = (struct dict_slot){dict_head(key, len), key, len, *at, counts[0], counts[1]};
	*at += counts[0] + counts[1];
	return i;
}

static void filter_set(uint64_t *filter, uint32_t h)
{
	uint32_t bit = h >> (32 - DICT_FILTER_BITS);

	filter[bit >> 6] |= (uint64_t)1 << (bit & 63);
}

/* A prefix key of DICT_HEAD bytes or more, waiting to be grouped by its first bytes. */
struct head_key {
	uint64_t head;
	uint32_t len, slot;
};

/* Notes a prefix key for the prefix probes: a short one by its length and hash, a longer one in
 * *longer, for the groups of heads[]. */
static void note_prefix(struct dict *d, uint32_t slot, uint8_t *seen, struct head_key *longer,
			size_t *n_longer)
{
	const struct dict_slot *s = &d->slots[slot];

	if (s->len >= DICT_HEAD) {
		longer[(*n_longer)++] = (struct head_key){dict_start(s->key), s->len, slot};
		return;
	}
	filter_set(d->pfx_filter, dict_hash(s->key, s->len));
	if (!seen[s->len]) {
		seen[s->len] = 1;
		d->pfx_lens[d->n_pfx_lens++] = s->len;
	}
}

static int cmp_head_key(const void *a, const void *b)
{
	const struct head_key *x = a, *y = b;

	if (x->head != y->head)
		return x->head < y->head ? -1 : 1;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Groups the longer prefix keys by their first DICT_HEAD bytes, each group shortest first. */
static void group_heads(struct dict *d, struct head_key *keys, size_t n)
{
	uint32_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	d->heads = xcalloc(cap, sizeof(*d->heads));
	d->heads_mask = cap - 1;
	d->head_keys = xreallocarray(NULL, n + 1, sizeof(*d->head_keys));
	qsort(keys, n, sizeof(*keys), cmp_head_key);
	for (size_t i = 0, end; i < n; i = end) {
		uint32_t h = dict_head_hash(keys[i].head), k = (h >> 16 ^ h) & d->heads_mask;

		for (end = i; end < n && keys[end].head == keys[i].head; end++)
			d->head_keys[end] = keys[end].slot;
		while (d->heads[k].n != 0)
			k = (k + 1) & d->heads_mask;
		d->heads[k] = (struct dict_head){keys[i].head, (uint32_t)i, (uint32_t)(end - i)};
		filter_set(d->head_filter, h);
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The slot of each key number, once placed. */
static void fill_postings(struct dict *d, const uint32_t *slot_of)
{
	uint32_t *fill = xcalloc(d->n_keys + 1, 2 * sizeof(*fill));

	for (size_t i = 0; i < d->n_pending; i++) {
		const struct dict_pending *pd = &d->pending[i];
		const struct dict_slot *s = &d->slots[slot_of[pd->key]];
		uint32_t k = pd->prefix ? s->n_exact + fill[2 * (size_t)pd->key + 1]++
					: fill[2 * (size_t)pd->key]++;

		d->postings[s->first + k] = pd->p;
	}
	free(fill);
}

/* Sizes the table for the keys (at most half full), the postings and the filters; returns the
 * length of the longest key. */
static uint32_t alloc_tables(struct dict *d)
{
	uint32_t cap = 16, max_len = 0;

	while (cap < 2 * d->n_keys)
		cap *= 2;
	d->slots = xcalloc(cap, sizeof(*d->slots));
	d->mask = cap - 1;
	d->postings = xreallocarray(NULL, d->n_pending + 1, sizeof(*d->postings));
	d->filter = xcalloc((1u << DICT_FILTER_BITS) / 64, sizeof(uint64_t));
	d->pfx_filter = xcalloc((1u << DICT_FILTER_BITS) / 64, sizeof(uint64_t));
	d->head_filter = xcalloc((1u << DICT_FILTER_BITS) / 64, sizeof(uint64_t));
	for (uint32_t i = 0; d->index.slots != NULL && i <= d->index.mask; i++) {
		if (d->index.slots[i].key != NULL && d->index.slots[i].len > max_len)
			max_len = d->index.slots[i].len;
	}
	d->pfx_lens = xcalloc(max_len + 1, sizeof(*d->pfx_lens));
	return max_len;
}

void dict_build(struct dict *d)
{
	uint32_t at = 0;
	uint32_t *counts = xcalloc(d->n_keys + 1, 2 * sizeof(*counts));
	uint32_t *slot_of = xcalloc(d->n_keys + 1, sizeof(*slot_of));
	struct head_key *longer = xcalloc(d->n_keys + 1, sizeof(*longer));
	size_t n_longer = 0;
	uint8_t *seen;

	seen = xcalloc(alloc_tables(d) + 1, 1);
	for (size_t i = 0; i < d->n_pending; i++)
		counts[2 * d->pending[i].key + d->pending[i].prefix]++;
	for (uint32_t i = 0; d->index.slots != NULL && i <= d->index.mask; i++) {
		const struct hmap_slot *h = &d->index.slots[i];

		if (h->key == NULL)
			continue;
		slot_of[h->value] = place(d, h->key, h->len, counts + 2 * (size_t)h->value, &at);
		filter_set(d->filter, dict_hash(h->key, h->len));
		if (counts[2 * (size_t)h->value + 1] > 0)
			note_prefix(d, slot_of[h->value], seen, longer, &n_longer);
	}
	qsort(d->pfx_lens, d->n_pfx_lens, sizeof(*d->pfx_lens), cmp_u32);
	group_heads(d, longer, n_longer);
	free(longer);
	fill_postings(d, slot_of);
	free(seen);
	free(counts);
	free(slot_of);
	free(d->pending);
	d->pending = NULL;
	d->n_pending = d->cap_pending = 0;
	hmap_free(&d->index);
}
