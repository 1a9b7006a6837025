/*
 * parse/idset.h — the set of paper ids a parse has emitted. A slot is eight bytes, a hash and an
 * index, so that the set of a long digest (a hundred thousand papers) stays in the cache; the ids
 * themselves are looked at only when a hash matches.
 */
#ifndef PW_PARSE_IDSET_H
#define PW_PARSE_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct idset {
	uint64_t *slots;  /* hash << 32 | (index in ids + 1); 0 marks an empty slot */
	const char **ids; /* in the order added; their memory must outlive the set */
	size_t cap_ids;
	uint32_t mask; /* capacity - 1; capacity is a power of two */
	uint32_t count;
};

void idset_init(struct idset *s);
/* Makes room for n ids at once, so that filling the set does not rehash. */
void idset_reserve(struct idset *s, size_t n);
void idset_free(struct idset *s);
/* Whether the len bytes of id are in the set. */
bool idset_has(const struct idset *s, const char *id, size_t len);
/* Adds id unless it is there; *existed says which. Returns where the set keeps its pointer to
 * the id (a NUL-terminated string), which the caller may point at a copy that lives longer;
 * valid until the next addition. */
const char **idset_put(struct idset *s, const char *id, size_t len, bool *existed);
/* Starts loading the slot where id's search begins, for a look that comes a little later. */
void idset_prefetch(const struct idset *s, const char *id, size_t len);

#endif
