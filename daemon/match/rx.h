/*
 * match/rx.h — regular-expression terms of interest rules: PCRE2 with the options the query
 * language promises (caseless, UTF-8, Unicode classes), the literal text every match must contain
 * (a cheap test that spares most runs), and finding matches.
 */
#ifndef PW_RX_H
#define PW_RX_H

#include <stdbool.h>
#include <stddef.h>

/* The fewest characters a literal must have to be worth testing for (litscan.h). */
#define RX_LITERAL_MIN 4

struct rx;

/* Compiles pattern[0..len). On failure returns NULL with a message in msg and, in *at, the byte
 * offset in the pattern the message is about. Patterns that can match empty text (they would
 * match every paper) and \K (a match must cover the text it highlights) are refused. */
struct rx *rx_compile(const char *pattern, size_t len, size_t *at, char *msg, size_t msg_size);

/* NULL is a no-op. */
void rx_free(struct rx *r);

/* Whether patterns run as machine code here (PCRE2's JIT): 0, or -1 with the reason they are
 * interpreted instead in why. Loads PCRE2, as rx_compile() does: a pattern it cannot load for
 * fails to compile, with the reason. */
int rx_jit_probe(char *why, size_t why_size);

/* Lower-case ASCII text that every match contains, or NULL when the pattern promises none. A
 * caseless ASCII comparison finds it in every text the pattern matches, except where PCRE2
 * matches a letter caselessly to a character beyond ASCII (k to U+212A KELVIN SIGN, s to U+017F
 * LONG S): a text holding such characters must be taken to hold every literal. */
const char *rx_literal(const struct rx *r, size_t *len);

/* Finds the first match in s[0..n) starting at or after byte from; sets [*start, *end), a
 * non-empty range of whole characters. A match that exceeds PCRE2's backtracking limit counts
 * as no match. */
bool rx_find(struct rx *r, const char *s, size_t n, size_t from, size_t *start, size_t *end);

#endif
