/*
 * xmalloc.h — allocation that cannot return NULL: running out of memory ends the process with a
 * message, and systemd restarts it with nothing lost (every alert is in the state database first).
 */
#ifndef PW_XMALLOC_H
#define PW_XMALLOC_H

#include <stddef.h>

#include "err.h"

/* The capacity an empty array grows to first. */
#define XGROW_MIN 16

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
/* Makes room for need elements of size bytes in the array p of *cap: doubling *cap (from
 * XGROW_MIN) until it fits, so appending one at a time costs amortised constant time. Returns the
 * array, perhaps moved: p = xgrow(p, &cap, n + 1, sizeof(*p)). */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Formats into a new string; the caller owns it. */
char *xasprintf(const char *fmt, ...) PW_PRINTF(1, 2);

#endif
