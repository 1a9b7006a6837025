/*
 * text.c — folding and cutting text into words. ASCII, nearly all of every digest, goes through a
 * table, a byte at a time, with no call into utf8proc; other characters are folded a cluster
 * (a character and the marks that follow it) at a time, so that NFKC can compose them.
 */
#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "text.h"
#include "xmalloc.h"

/* NFKC with Unicode case folding; default-ignorable characters (soft hyphens, zero-width
 * joiners) vanish, so they do not cut a word. */
#define FOLD_OPTS                                                                                  \
	(UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE)
/* Code points folded together at most: a character and its marks. Longer runs of marks (which
 * only made-up text has) are folded in pieces. */
#define CLUSTER_MAX 32
/* A code point folds to at most 18 (U+FDFA). */
#define FOLD_BUF ((utf8proc_ssize_t)CLUSTER_MAX * 18)

/* ASCII letters and digits folded to lower case; 0 for everything that cuts a word. */
static const unsigned char ascii_fold[128] = {
	0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   /* 00 */
	0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   /* 10 */
	0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   /* 20 */
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 0,   0,   0,   0,   0,   0,   /* 30 */
	0,   'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', /* 40 */
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0,   0,   0,   0,   0,   /* 50 */
	0,   'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', /* 60 */
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0,   0,   0,   0,   0,   /* 70 */
};

/* The word being built while cutting one string. */
struct cutter {
	struct text_words *tw;
	uint32_t seg;
	bool in_word;
	uint32_t woff;         /* where its folded bytes start */
	uint32_t wstart, wend; /* its original bytes so far */
};

void text_words_init(struct text_words *tw)
{
	memset(tw, 0, sizeof(*tw));
}

void text_words_free(struct text_words *tw)
{
	if (tw == NULL)
		return;
	free(tw->w);
	free(tw->fold);
	text_words_init(tw);
}

void text_words_clear(struct text_words *tw)
{
	tw->n = 0;
	tw->fold_len = 0;
}

static void fold_reserve(struct text_words *tw, size_t more)
{
	if (tw->fold_len + more <= tw->fold_cap)
		return;
	while (tw->fold_len + more > tw->fold_cap)
		tw->fold_cap = tw->fold_cap ? tw->fold_cap * 2 : 4096;
	tw->fold = xreallocarray(tw->fold, tw->fold_cap, 1);
}

static void push_word(struct text_words *tw, uint32_t off, uint32_t start, uint32_t end,
		      uint32_t seg, uint32_t flags)
{
	if (tw->n == tw->cap) {
		tw->cap = tw->cap ? tw->cap * 2 : 256;
		tw->w = xreallocarray(tw->w, tw->cap, sizeof(*tw->w));
	}
	tw->w[tw->n++] =
		(struct text_word){off, (uint32_t)tw->fold_len - off, start, end, seg, flags};
}

static void word_close(struct cutter *c)
{
	if (!c->in_word)
		return;
	c->in_word = false;
	push_word(c->tw, c->woff, c->wstart, c->wend, c->seg, 0);
}

/* Length of the run of ASCII bytes at s, sixteen at a time where the CPU allows. */
static size_t ascii_run(const unsigned char *s, size_t n)
{
	size_t i = 0;

#ifdef __SSE2__
	for (; i + 16 <= n; i += 16) {
		int mask =
			_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + i)));

		if (mask != 0)
			return i + (size_t)__builtin_ctz((unsigned)mask);
	}
#else
	for (; i + 8 <= n; i += 8) {
		uint64_t x;

		memcpy(&x, s + i, 8);
		if (x & 0x8080808080808080ull)
			break;
	}
#endif
	while (i < n && s[i] < 0x80)
		i++;
	return i;
}

/* The fast path: ASCII bytes s[i..end) through the table. */
static void cut_ascii(struct cutter *c, const unsigned char *s, size_t i, size_t end)
{
	struct text_words *tw = c->tw;
	char *out;
	size_t o;

	fold_reserve(tw, end - i);
	out = tw->fold;
	o = tw->fold_len;
	for (; i < end; i++) {
		unsigned char f = ascii_fold[s[i]];

		if (f != 0) {
			if (!c->in_word) {
				c->in_word = true;
				c->woff = (uint32_t)o;
				c->wstart = (uint32_t)i;
			}
			out[o++] = (char)f;
		} else if (c->in_word) {
			tw->fold_len = o;
			c->wend = (uint32_t)i;
			word_close(c);
		}
	}
	tw->fold_len = o;
	if (c->in_word)
		c->wend = (uint32_t)end;
}

bool text_is_nospace(int32_t c)
{
	/* Han (with radicals, ideographic numbers and iteration marks), Hiragana, Katakana and
	 * Hangul, as the Unicode blocks that hold them. */
	static const int32_t ranges[][2] = {
		{0x1100, 0x11ff},   {0x2e80, 0x2fdf}, {0x3005, 0x3007},   {0x3021, 0x3029},
		{0x3038, 0x303c},   {0x3040, 0x30ff}, {0x3130, 0x318f},   {0x31f0, 0x31ff},
		{0x3400, 0x4dbf},   {0x4e00, 0x9fff}, {0xa960, 0xa97f},   {0xac00, 0xd7ff},
		{0xf900, 0xfaff},   {0xff65, 0xffdc}, {0x1aff0, 0x1b16f}, {0x20000, 0x2fa1f},
		{0x30000, 0x323af},
	};

	if (c < 0x1100)
		return false;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		if (c >= ranges[i][0] && c <= ranges[i][1])
			return true;
	}
	return false;
}

/* Appends the UTF-8 of code point cp to the word. */
static void append_cp(struct cutter *c, int32_t cp)
{
	struct text_words *tw = c->tw;

	fold_reserve(tw, 4);
	tw->fold_len +=
		(size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)tw->fold + tw->fold_len);
}

/* Adds one folded code point that came from the original bytes [start, end). */
static void emit_cp(struct cutter *c, int32_t cp, uint32_t start, uint32_t end)
{
	utf8proc_category_t cat = utf8proc_category(cp);
	bool letter = cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO;
	bool digit = cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO;
	bool mark = cat >= UTF8PROC_CATEGORY_MN && cat <= UTF8PROC_CATEGORY_ME;

	if ((letter || digit) && text_is_nospace(cp)) {
		word_close(c);
		c->woff = (uint32_t)c->tw->fold_len;
		append_cp(c, cp);
		push_word(c->tw, c->woff, start, end, c->seg, TEXT_WORD_NOSPACE);
	} else if (letter || digit || (mark && c->in_word)) {
		/* A mark belongs to the letter before it; alone it is nothing. */
		if (!c->in_word) {
			c->in_word = true;
			c->woff = (uint32_t)c->tw->fold_len;
			c->wstart = start;
		}
		append_cp(c, cp);
		c->wend = end;
	} else if (!mark) {
		word_close(c);
	}
}

/* Whether cp joins the cluster before it: a mark, or a Hangul vowel or final consonant that
 * NFKC composes with the syllable before it. */
static bool continues_cluster(int32_t cp)
{
	const utf8proc_property_t *p;

	if (cp < 0x300)
		return false;
	p = utf8proc_get_property(cp);
	return p->combining_class != 0 ||
	       (p->category >= UTF8PROC_CATEGORY_MN && p->category <= UTF8PROC_CATEGORY_ME) ||
	       (cp >= 0x1160 && cp <= 0x11ff);
}

/* Whether NFKC and case folding leave cp, alone, as it is. */
static bool folds_to_itself(int32_t cp)
{
	const utf8proc_property_t *p = utf8proc_get_property(cp);

	return p->decomp_seqindex == UINT16_MAX && p->casefold_seqindex == UINT16_MAX &&
	       !p->ignorable;
}

/* The slow path: folds the cluster that starts at s[i] and returns where the next one starts. */
static size_t cut_cluster(struct cutter *c, const unsigned char *s, size_t n, size_t i)
{
	int32_t cp, next, buf[FOLD_BUF];
	utf8proc_ssize_t len = utf8proc_iterate(s + i, (utf8proc_ssize_t)(n - i), &cp), k;
	size_t end, count = 1;

	if (len < 0) {
		word_close(c);
		return i + 1;
	}
	for (end = i + (size_t)len; end < n && count < CLUSTER_MAX; end += (size_t)len, count++) {
		len = utf8proc_iterate(s + end, (utf8proc_ssize_t)(n - end), &next);
		if (len < 0 || !continues_cluster(next))
			break;
	}
	if (count == 1 && (cp < 0x80 || folds_to_itself(cp))) {
		emit_cp(c, cp < 0x80 && ascii_fold[cp] ? ascii_fold[cp] : cp, (uint32_t)i,
			(uint32_t)end);
		return end;
	}
	k = utf8proc_decompose(s + i, (utf8proc_ssize_t)(end - i), buf, FOLD_BUF, FOLD_OPTS);
	if (k >= 0 && k <= FOLD_BUF)
		k = utf8proc_normalize_utf32(buf, k, FOLD_OPTS);
	if (k < 0 || k > FOLD_BUF) {
		word_close(c);
		return end;
	}
	for (utf8proc_ssize_t j = 0; j < k; j++)
		emit_cp(c, buf[j], (uint32_t)i, (uint32_t)end);
	return end;
}

void text_cut(struct text_words *tw, const char *str, size_t n, uint32_t seg)
{
	const unsigned char *s = (const unsigned char *)str;
	struct cutter c = {.tw = tw, .seg = seg};
	size_t i = 0;

	while (i < n) {
		size_t run = ascii_run(s + i, n - i), stop = i + run;

		/* The last ASCII character before others may take marks that follow: it is
		 * folded with them. */
		if (stop < n && run > 0)
			stop--;
		cut_ascii(&c, s, i, stop);
		i = stop;
		if (i < n)
			i = cut_cluster(&c, s, n, i);
	}
	word_close(&c);
}

void text_add_verbatim(struct text_words *tw, const char *s, size_t n, uint32_t seg)
{
	uint32_t off = (uint32_t)tw->fold_len;

	fold_reserve(tw, n);
	for (size_t i = 0; i < n; i++)
		tw->fold[off + i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] | 0x20 : s[i]);
	tw->fold_len += n;
	push_word(tw, off, 0, (uint32_t)n, seg, 0);
}

bool text_takes_es(const char *q, size_t qn)
{
	char last = qn > 0 ? q[qn - 1] : 0, before = qn > 1 ? q[qn - 2] : 0;

	return last == 's' || last == 'x' || last == 'z' || last == 'o' ||
	       (last == 'h' && (before == 'c' || before == 's'));
}

bool text_word_is(const char *q, size_t qn, bool nospace, bool prefix, const char *t, size_t tn)
{
	if (tn < qn || memcmp(t, q, qn) != 0)
		return false;
	if (prefix || tn == qn)
		return true;
	if (nospace)
		return false;
	if (tn == qn + 1)
		return t[qn] == 's';
	return tn == qn + 2 && t[qn] == 'e' && t[qn + 1] == 's' && text_takes_es(q, qn);
}
