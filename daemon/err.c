/*
 * err.c — filling struct err: the one way fallible calls report why.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>

#include "err.h"

int err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	char old[ERR_MAX];
	size_t head, rest;
	va_list ap;
	int n;

	if (e == NULL)
		return -1;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	/* The context comes first; the old message fills what room is left, cut if need be. */
	head = n < 0 ? 0 : (size_t)n < sizeof(e->msg) ? (size_t)n : sizeof(e->msg) - 1;
	rest = strnlen(old, sizeof(old) - 1);
	if (rest > sizeof(e->msg) - 1 - head)
		rest = sizeof(e->msg) - 1 - head;
	memcpy(e->msg + head, old, rest);
	e->msg[head + rest] = '\0';
	return -1;
}
