/*
 * hmap.c — string-keyed hash table kept at most half full, so probes stay short.
 */
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "xmalloc.h"

#define HMAP_MIN 16

void hmap_init(struct hmap *m)
{
	m->slots = NULL;
	m->mask = 0;
	m->count = 0;
}

void hmap_free(struct hmap *m)
{
	free(m->slots);
	hmap_init(m);
}

void hmap_clear(struct hmap *m)
{
	if (m->slots == NULL)
		return;
	if ((size_t)m->count * 8 < (size_t)m->mask + 1) {
		hmap_free(m);
		return;
	}
	memset(m->slots, 0, ((size_t)m->mask + 1) * sizeof(*m->slots));
	m->count = 0;
}

/* FNV-1a: short keys (words, ids) dominate, and it needs no alignment or length tricks. */
uint32_t hmap_hash(const char *key, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 16777619u;
	}
	return h;
}

static struct hmap_slot *hmap_find(const struct hmap *m, const char *key, size_t len, uint32_t hash)
{
	uint32_t i = hash & m->mask;

	for (;;) {
		struct hmap_slot *s = &m->slots[i];

		if (s->key == NULL)
			return s;
		if (s->hash == hash && s->len == len && memcmp(s->key, key, len) == 0)
			return s;
		i = (i + 1) & m->mask;
	}
}

/* Rehashes into cap slots (a power of two larger than twice the count). */
static void hmap_resize(struct hmap *m, uint32_t cap)
{
	struct hmap_slot *old = m->slots;
	uint32_t old_cap = old ? m->mask + 1 : 0;

	m->slots = xcalloc(cap, sizeof(*m->slots));
	m->mask = cap - 1;
	for (uint32_t i = 0; i < old_cap; i++) {
		if (old[i].key != NULL)
			*hmap_find(m, old[i].key, old[i].len, old[i].hash) = old[i];
	}
	free(old);
}

static void hmap_grow(struct hmap *m)
{
	hmap_resize(m, m->slots ? (m->mask + 1) * 2 : HMAP_MIN);
}

void hmap_reserve(struct hmap *m, size_t n)
{
	uint32_t cap = m->slots ? m->mask + 1 : HMAP_MIN;

	if (n > UINT32_MAX / 4)
		n = UINT32_MAX / 4;
	while (cap < n * 2)
		cap *= 2;
	if (m->slots == NULL || cap > m->mask + 1)
		hmap_resize(m, cap);
}

struct hmap_slot *hmap_put(struct hmap *m, const char *key, size_t len, bool *existed)
{
	uint32_t hash = hmap_hash(key, len);
	struct hmap_slot *s;

	if (m->slots == NULL || (m->count + 1) * 2 > m->mask + 1)
		hmap_grow(m);
	s = hmap_find(m, key, len, hash);
	*existed = s->key != NULL;
	if (!*existed) {
		s->key = key;
		s->len = (uint32_t)len;
		s->hash = hash;
		s->value = 0;
		m->count++;
	}
	return s;
}

const uint32_t *hmap_get_hashed(const struct hmap *m, const char *key, size_t len, uint32_t hash)
{
	struct hmap_slot *s;

	if (m->slots == NULL)
		return NULL;
	s = hmap_find(m, key, len, hash);
	return s->key != NULL ? &s->value : NULL;
}

const uint32_t *hmap_get(const struct hmap *m, const char *key, size_t len)
{
	return hmap_get_hashed(m, key, len, hmap_hash(key, len));
}
