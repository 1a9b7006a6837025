/*
 * arena.h — a bump allocator for many small objects that are freed together, such as one digest's
 * papers: no per-object malloc, one free.
 */
#ifndef PW_ARENA_H
#define PW_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head; /* the chunk being filled; older chunks follow */
};

void arena_init(struct arena *a);
/* Returns size bytes aligned for any type; never NULL. Lives until arena_free(). */
void *arena_alloc(struct arena *a, size_t size);
/* Copies n bytes of s and a terminating NUL into the arena. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* Frees everything allocated so far but keeps one chunk for what comes next. */
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

#endif
