/*
 * utf8.c — UTF-8 checks: an ASCII fast path eight bytes at a time, Table 3-7 of the Unicode
 * standard for everything else.
 */
#include <stdbool.h>
#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <string.h>

#include "utf8.h"
#include "xmalloc.h"

#define HIGH_BITS 0x8080808080808080ull

/* Length of the well-formed sequence at p, or 0 with *bad set to the length of the maximal
 * ill-formed subpart to replace. */
static size_t utf8_seq(const unsigned char *p, size_t n, size_t *bad)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4) {
		*bad = 1;
		return 0;
	}
	if (c < 0xe0) {
		len = 2;
	} else if (c < 0xf0) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* beyond U+10FFFF */
	}
	if (n < 2 || p[1] < lo || p[1] > hi) {
		*bad = 1;
		return 0;
	}
	for (size_t i = 2; i < len; i++) {
		if (i >= n || (p[i] & 0xc0) != 0x80) {
			*bad = i;
			return 0;
		}
	}
	return len;
}

/* Length of the run of ASCII bytes at p, looking at 16 bytes at a time where it can. */
static size_t ascii_run(const unsigned char *p, size_t n)
{
	size_t i = 0;

#ifdef __SSE2__
	for (; i + 16 <= n; i += 16) {
		int mask =
			_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + i)));

		if (mask != 0)
			return i + (size_t)__builtin_ctz((unsigned)mask);
	}
#else
	for (; i + 8 <= n; i += 8) {
		uint64_t x;

		memcpy(&x, p + i, 8);
		if (x & HIGH_BITS)
			break;
	}
#endif
	while (i < n && p[i] < 0x80)
		i++;
	return i;
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <tmmintrin.h>

/*
 * Sixteen bytes at a time with SSSE3, by the lookup method of Keiser and Lemire ("Validating
 * UTF-8 in less than one instruction per byte", 2021). Every error shows in a pair of bytes: the
 * previous byte's high nibble, its low nibble and the current byte's high nibble each say which
 * error classes they allow, and a class all three allow is an error. Third and fourth bytes of a
 * sequence are the one pair of continuation bytes that is legal, told apart by the bytes two and
 * three back.
 */
enum {
	TOO_SHORT = 1 << 0,  /* a lead byte followed by ASCII or another lead */
	TOO_LONG = 1 << 1,   /* ASCII followed by a continuation byte */
	OVERLONG_3 = 1 << 2, /* E0 80..9F */
	TOO_LARGE = 1 << 3,  /* F4 90..BF, F5..FF 90..BF */
	SURROGATE = 1 << 4,  /* ED A0..BF */
	OVERLONG_2 = 1 << 5, /* C0..C1 followed by a continuation */
	OVER_4 = 1 << 6,     /* F0 80..8F (overlong), F5..FF 80..8F (too large) */
	TWO_CONTS = 1 << 7,  /* two continuation bytes: an error unless third or fourth */
	ANY = TOO_SHORT | TOO_LONG | TWO_CONTS,
};

/* Indexed by a nibble; the ranges spell out which bytes each class concerns. */
static const unsigned char by_prev_high[16] = {
	[0x0 ... 0x7] = TOO_LONG,
	[0x8 ... 0xb] = TWO_CONTS,
	[0xc] = TOO_SHORT | OVERLONG_2,
	[0xd] = TOO_SHORT,
	[0xe] = TOO_SHORT | OVERLONG_3 | SURROGATE,
	[0xf] = TOO_SHORT | TOO_LARGE | OVER_4,
};
static const unsigned char by_prev_low[16] = {
	[0x0] = ANY | OVERLONG_3 | OVERLONG_2 | OVER_4, /* C0, E0, F0 */
	[0x1] = ANY | OVERLONG_2,                       /* C1 */
	[0x2 ... 0x3] = ANY,
	[0x4] = ANY | TOO_LARGE,                      /* F4 */
	[0x5 ... 0xc] = ANY | TOO_LARGE | OVER_4,     /* F5..FC */
	[0xd] = ANY | TOO_LARGE | OVER_4 | SURROGATE, /* ED, FD */
	[0xe ... 0xf] = ANY | TOO_LARGE | OVER_4,     /* FE, FF */
};
static const unsigned char by_high[16] = {
	[0x0 ... 0x7] = TOO_SHORT,
	[0x8] = TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | OVER_4,
	[0x9] = TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
	[0xa ... 0xb] = TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
	[0xc ... 0xf] = TOO_SHORT,
};

__attribute__((target("ssse3"))) static __m128i lookup(__m128i nibbles, const unsigned char t[16])
{
	return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)t), nibbles);
}

/* The error classes of each pair (byte before, byte) in input; prev is the 16 bytes before. */
__attribute__((target("ssse3"))) static __m128i pair_errors(__m128i input, __m128i prev)
{
	const __m128i low = _mm_set1_epi8(0x0f);
	__m128i prev1 = _mm_alignr_epi8(input, prev, 15);
	__m128i prev2 = _mm_alignr_epi8(input, prev, 14);
	__m128i prev3 = _mm_alignr_epi8(input, prev, 13);
	__m128i special, must_cont;

	special = _mm_and_si128(
		_mm_and_si128(lookup(_mm_and_si128(_mm_srli_epi16(prev1, 4), low), by_prev_high),
			      lookup(_mm_and_si128(prev1, low), by_prev_low)),
		lookup(_mm_and_si128(_mm_srli_epi16(input, 4), low), by_high));
	/* Third bytes (two after E0..FF) and fourth bytes (three after F0..FF) must continue. */
	must_cont = _mm_or_si128(_mm_subs_epu8(prev2, _mm_set1_epi8((char)(0xe0 - 0x80))),
				 _mm_subs_epu8(prev3, _mm_set1_epi8((char)(0xf0 - 0x80))));
	must_cont = _mm_and_si128(must_cont, _mm_set1_epi8((char)0x80));
	return _mm_xor_si128(special, must_cont);
}

/* The offset up to which s is certainly valid UTF-8, a character boundary at least 16 bytes
 * before the first error or the end: the scalar check takes over there. */
__attribute__((target("ssse3"))) static size_t valid_blocks(const unsigned char *s, size_t n)
{
	__m128i prev = _mm_setzero_si128();
	size_t i = 0, last = 0;

	while (i + 16 <= n) {
		const __m128i *b = (const __m128i *)(const void *)(s + i);
		__m128i input = _mm_loadu_si128(b);

		/* Runs of ASCII, most of any digest, go sixty-four bytes at a time: blocks with no
		 * high bit after a block with none have nothing to check. */
		if (i + 64 <= n) {
			__m128i b3 = _mm_loadu_si128(b + 3);
			__m128i any = _mm_or_si128(_mm_or_si128(input, _mm_loadu_si128(b + 1)),
						   _mm_or_si128(_mm_loadu_si128(b + 2), b3));

			if (_mm_movemask_epi8(_mm_or_si128(any, prev)) == 0) {
				prev = b3;
				last = i + 48;
				i += 64;
				continue;
			}
		}
		if (_mm_movemask_epi8(_mm_or_si128(input, prev)) != 0 &&
		    _mm_movemask_epi8(_mm_cmpeq_epi8(pair_errors(input, prev),
						     _mm_setzero_si128())) != 0xffff)
			break;
		prev = input;
		last = i;
		i += 16;
	}
	/* Back from the start of the last clean block to the start of a character. */
	while (last > 0 && (s[last] & 0xc0) == 0x80)
		last--;
	return last;
}

/* The same 32 bytes at a time, with AVX2: the tables stand in both halves of a register, and the
 * bytes before each byte come across the halves from the previous block. */
__attribute__((target("avx2"))) static __m256i lookup32(__m256i nibbles, const unsigned char t[16])
{
	return _mm256_shuffle_epi8(
		_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)t)),
		nibbles);
}

__attribute__((target("avx2"))) static __m256i pair_errors32(__m256i input, __m256i prev)
{
	const __m256i low = _mm256_set1_epi8(0x0f);
	/* The last 16 bytes of prev, then the first 16 of input: what each half shifts in. */
	__m256i before = _mm256_permute2x128_si256(prev, input, 0x21);
	__m256i prev1 = _mm256_alignr_epi8(input, before, 15);
	__m256i prev2 = _mm256_alignr_epi8(input, before, 14);
	__m256i prev3 = _mm256_alignr_epi8(input, before, 13);
	__m256i special, must_cont;

	special = _mm256_and_si256(
		_mm256_and_si256(
			lookup32(_mm256_and_si256(_mm256_srli_epi16(prev1, 4), low), by_prev_high),
			lookup32(_mm256_and_si256(prev1, low), by_prev_low)),
		lookup32(_mm256_and_si256(_mm256_srli_epi16(input, 4), low), by_high));
	must_cont = _mm256_or_si256(_mm256_subs_epu8(prev2, _mm256_set1_epi8((char)(0xe0 - 0x80))),
				    _mm256_subs_epu8(prev3, _mm256_set1_epi8((char)(0xf0 - 0x80))));
	must_cont = _mm256_and_si256(must_cont, _mm256_set1_epi8((char)0x80));
	return _mm256_xor_si256(special, must_cont);
}

/* As valid_blocks: valid up to a character boundary at least 32 bytes before the first error. */
__attribute__((target("avx2"))) static size_t valid_blocks32(const unsigned char *s, size_t n)
{
	__m256i prev = _mm256_setzero_si256();
	size_t i = 0, last = 0;

	while (i + 32 <= n) {
		const __m256i *b = (const __m256i *)(const void *)(s + i);
		__m256i input = _mm256_loadu_si256(b);

		if (i + 64 <= n) {
			__m256i b1 = _mm256_loadu_si256(b + 1);

			if (_mm256_movemask_epi8(
				    _mm256_or_si256(_mm256_or_si256(input, b1), prev)) == 0) {
				prev = b1;
				last = i + 32;
				i += 64;
				continue;
			}
		}
		if (_mm256_movemask_epi8(_mm256_or_si256(input, prev)) != 0) {
			__m256i errors = pair_errors32(input, prev);

			if (!_mm256_testz_si256(errors, errors))
				break;
		}
		prev = input;
		last = i;
		i += 32;
	}
	while (last > 0 && (s[last] & 0xc0) == 0x80)
		last--;
	return last;
}

static bool have_avx2(void)
{
	static int known = -1;

	if (known < 0)
		known = __builtin_cpu_supports("avx2") ? 1 : 0;
	return known == 1;
}

static bool have_ssse3(void)
{
	static int known = -1;

	if (known < 0)
		known = __builtin_cpu_supports("ssse3") ? 1 : 0;
	return known == 1;
}
#endif

/* The scalar check, from a character boundary. */
static size_t valid_scalar(const unsigned char *p, size_t n, size_t i)
{
	size_t bad;

	while (i < n) {
		size_t len;

		i += ascii_run(p + i, n - i);
		/* Then a run of multi-byte characters, as in a translated abstract. Three-byte
		 * characters without special cases (most of CJK) are checked inline. */
		while (i < n && p[i] >= 0x80) {
			if (i + 3 <= n && p[i] >= 0xe1 && p[i] <= 0xef && p[i] != 0xed &&
			    (p[i + 1] & 0xc0) == 0x80 && (p[i + 2] & 0xc0) == 0x80) {
				i += 3;
				continue;
			}
			len = utf8_seq(p + i, n - i, &bad);
			if (len == 0)
				return i;
			i += len;
		}
	}
	return n;
}

size_t utf8_valid_prefix(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

#if defined(__x86_64__) || defined(__i386__)
	if (n >= 64 && have_avx2())
		i = valid_blocks32(p, n);
	else if (n >= 64 && have_ssse3())
		i = valid_blocks(p, n);
#endif
	return valid_scalar(p, n, i);
}

/* For tests: the 16-byte check, which machines without AVX2 use, on its own. */
size_t utf8_valid_prefix_16(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

#if defined(__x86_64__) || defined(__i386__)
	if (n >= 64 && have_ssse3())
		i = valid_blocks(p, n);
#endif
	return valid_scalar(p, n, i);
}

/* For tests: the scalar check alone, to hold the vector one to account. */
size_t utf8_valid_prefix_scalar(const char *s, size_t n)
{
	return valid_scalar((const unsigned char *)s, n, 0);
}

char *utf8_repair(const char *s, size_t n, size_t *out_len, size_t *n_bad)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = xmalloc(n * 3 + 1); /* every byte may become U+FFFD */
	size_t i = 0, o = 0, bad = 0;

	*n_bad = 0;
	while (i < n) {
		size_t ok = utf8_valid_prefix(s + i, n - i);

		memcpy(out + o, s + i, ok);
		o += ok;
		i += ok;
		if (i >= n)
			break;
		utf8_seq(p + i, n - i, &bad);
		memcpy(out + o, "\xef\xbf\xbd", 3);
		o += 3;
		i += bad;
		(*n_bad)++;
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

/* Writes code point c as UTF-8 at out; returns the bytes written. */
static size_t utf8_put(char *out, uint32_t c)
{
	unsigned char *u = (unsigned char *)out;

	if (c < 0x80) {
		u[0] = (unsigned char)c;
		return 1;
	}
	if (c < 0x800) {
		u[0] = (unsigned char)(0xc0 | c >> 6);
		u[1] = (unsigned char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		u[0] = (unsigned char)(0xe0 | c >> 12);
		u[1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (c & 0x3f));
		return 3;
	}
	u[0] = (unsigned char)(0xf0 | c >> 18);
	u[1] = (unsigned char)(0x80 | (c >> 12 & 0x3f));
	u[2] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
	u[3] = (unsigned char)(0x80 | (c & 0x3f));
	return 4;
}

/* The UTF-16 code unit at p. */
static uint32_t utf16_unit(const unsigned char *p, bool big_endian)
{
	return big_endian ? (uint32_t)p[0] << 8 | p[1] : (uint32_t)p[1] << 8 | p[0];
}

char *utf8_from_utf16(const char *s, size_t n, bool big_endian, size_t *out_len, size_t *n_bad)
{
	const unsigned char *p = (const unsigned char *)s;
	/* A unit is at most 3 bytes of UTF-8 (a pair, 4 bytes, is two units); an odd byte 3. */
	char *out = xmalloc(n / 2 * 3 + 3 + 1);
	size_t i = 0, o = 0;

	*n_bad = 0;
	for (; i + 1 < n; i += 2) {
		uint32_t c = utf16_unit(p + i, big_endian);

		if (c >= 0xd800 && c < 0xdc00 && i + 3 < n) {
			uint32_t low = utf16_unit(p + i + 2, big_endian);

			if (low >= 0xdc00 && low < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
				i += 2;
			}
		}
		if (c >= 0xd800 && c < 0xe000) {
			c = 0xfffd; /* half of a pair without its other half */
			(*n_bad)++;
		}
		o += utf8_put(out + o, c);
	}
	if (i < n) {
		o += utf8_put(out + o, 0xfffd);
		(*n_bad)++;
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

size_t utf8_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	/* Step back over continuation bytes to the start of the character that straddles max. */
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}
