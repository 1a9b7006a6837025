/*
 * utf8.h — UTF-8 validation, repair with U+FFFD, and cutting text at character boundaries.
 * Everything paperwatch prints or sends passes through here first, so it is always valid UTF-8.
 */
#ifndef PW_UTF8_H
#define PW_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the longest valid UTF-8 prefix of s: n when all of s is valid. */
size_t utf8_valid_prefix(const char *s, size_t n);

/* The same, by the plain byte-by-byte method: the reference the fast one is tested against. */
size_t utf8_valid_prefix_scalar(const char *s, size_t n);
/* The same, 16 bytes at a time where SSSE3 allows: what machines without AVX2 run, for tests. */
size_t utf8_valid_prefix_16(const char *s, size_t n);

/* Copies s, replacing each maximal ill-formed subpart (Unicode 3.9, "U+FFFD substitution of
 * maximal subparts") with U+FFFD. The caller owns the result, which is NUL-terminated and one
 * byte longer than *out_len says. *n_bad counts the replacements. */
char *utf8_repair(const char *s, size_t n, size_t *out_len, size_t *n_bad);

/* The UTF-8 of UTF-16 text s[0..n) (big- or little-endian, without its byte order mark): each
 * unpaired surrogate, and an odd last byte, becomes U+FFFD. The caller owns the result, which
 * is NUL-terminated and one byte longer than *out_len says. *n_bad counts the replacements. */
char *utf8_from_utf16(const char *s, size_t n, bool big_endian, size_t *out_len, size_t *n_bad);

/* The largest length <= max that does not cut a character of the valid UTF-8 text s[0..n). */
size_t utf8_cut(const char *s, size_t n, size_t max);

#endif
