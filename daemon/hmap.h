/*
 * hmap.h — a map from byte strings to 32-bit values, open addressing with linear probing.
 * Keys are not copied: their memory must outlive the map (an arena, the digest text).
 */
#ifndef PW_HMAP_H
#define PW_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hmap_slot {
	const char *key; /* NULL marks an empty slot */
	uint32_t len;
	uint32_t hash;
	uint32_t value;
};

struct hmap {
	struct hmap_slot *slots;
	uint32_t mask; /* capacity - 1; capacity is a power of two */
	uint32_t count;
};

void hmap_init(struct hmap *m);
/* Makes room for n keys at once, so that filling the map does not rehash. */
void hmap_reserve(struct hmap *m, size_t n);
void hmap_free(struct hmap *m);
/* Removes every key. The slots stay for the keys to come, unless most of them were unused: then
 * they go, so that clearing a map costs no more than filling it did. */
void hmap_clear(struct hmap *m);
uint32_t hmap_hash(const char *key, size_t len);
/* Finds or inserts key; *existed says which. The slot stays valid until the next insertion; a
 * caller may point a new slot's key at a copy of the same bytes that lives longer. */
struct hmap_slot *hmap_put(struct hmap *m, const char *key, size_t len, bool *existed);
/* The value for key, or NULL when absent. */
const uint32_t *hmap_get(const struct hmap *m, const char *key, size_t len);
/* Same, with the hash already computed by hmap_hash(). */
const uint32_t *hmap_get_hashed(const struct hmap *m, const char *key, size_t len, uint32_t hash);

#endif
