/*
 * parse/idset.c — the ids a parse has emitted: open addressing with linear probing over slots of
 * eight bytes, kept at most half full.
 */
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "idset.h"
#include "xmalloc.h"

#define IDSET_MIN 16

void idset_init(struct idset *s)
{
	memset(s, 0, sizeof(*s));
}

void idset_free(struct idset *s)
{
	free(s->slots);
	free(s->ids);
	idset_init(s);
}

static uint64_t slot_of(uint32_t hash, uint32_t index)
{
	return (uint64_t)hash << 32 | (index + 1);
}

/* The slot holding id, or the empty one where it would go. Only a slot of the same hash has
 * its id compared. */
static uint64_t *find(const struct idset *s, const char *id, size_t len, uint32_t hash)
{
	for (uint32_t i = hash & s->mask;; i = (i + 1) & s->mask) {
		uint64_t *slot = &s->slots[i];
		const char *have;

		if (*slot == 0)
			return slot;
		if ((uint32_t)(*slot >> 32) != hash)
			continue;
		have = s->ids[(uint32_t)*slot - 1];
		if (strncmp(have, id, len) == 0 && have[len] == '\0')
			return slot;
	}
}

/* Moves the slots into cap of them (a power of two); the hashes they hold place them. */
static void resize(struct idset *s, uint32_t cap)
{
	uint64_t *old = s->slots;
	uint32_t old_cap = old ? s->mask + 1 : 0;

	s->slots = xcalloc(cap, sizeof(*s->slots));
	s->mask = cap - 1;
	for (uint32_t i = 0; i < old_cap; i++) {
		uint32_t k;

		if (old[i] == 0)
			continue;
		for (k = (uint32_t)(old[i] >> 32) & s->mask; s->slots[k] != 0;
		     k = (k + 1) & s->mask)
			;
		s->slots[k] = old[i];
	}
	free(old);
}

void idset_reserve(struct idset *s, size_t n)
{
	uint32_t cap = s->slots ? s->mask + 1 : IDSET_MIN;

	if (n > UINT32_MAX / 4)
		n = UINT32_MAX / 4;
	while (cap < n * 2)
		cap *= 2;
	if (s->slots == NULL || cap > s->mask + 1)
		resize(s, cap);
}

bool idset_has(const struct idset *s, const char *id, size_t len)
{
	return s->slots != NULL && *find(s, id, len, hmap_hash(id, len)) != 0;
}

const char **idset_put(struct idset *s, const char *id, size_t len, bool *existed)
{
	uint32_t hash = hmap_hash(id, len);
	uint64_t *slot;

	if (s->slots == NULL || (s->count + 1) * 2 > s->mask + 1)
		resize(s, s->slots ? (s->mask + 1) * 2 : IDSET_MIN);
	slot = find(s, id, len, hash);
	*existed = *slot != 0;
	if (*existed)
		return &s->ids[(uint32_t)*slot - 1];
	s->ids = xgrow(s->ids, &s->cap_ids, s->count + 1, sizeof(*s->ids));
	s->ids[s->count] = id;
	*slot = slot_of(hash, s->count);
	return &s->ids[s->count++];
}

void idset_prefetch(const struct idset *s, const char *id, size_t len)
{
	if (s->slots != NULL)
		__builtin_prefetch(&s->slots[hmap_hash(id, len) & s->mask]);
}
