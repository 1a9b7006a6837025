/*
 * hex.h — bytes as lower-case hexadecimal text: content hashes, message keys, escaped bytes.
 */
#ifndef PW_HEX_H
#define PW_HEX_H

#include <stddef.h>

/* The text of n bytes: 2 * n digits. */
#define HEX_LEN(n) ((size_t)2 * (n))

/* Writes the 2 * n digits of in's n bytes to out, and a NUL: out holds HEX_LEN(n) + 1. */
void hex_encode(const void *in, size_t n, char *out);

#endif
