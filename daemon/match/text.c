/*
 * match/text.c — folding and cutting text into words. ASCII, nearly all of every digest, is
 * lower-cased sixteen bytes at a time where it lies, and its words found from a bit mask, with no
 * call into utf8proc; other characters are folded a cluster (a character and the marks that follow
 * it) at a time, so that NFKC can compose them. A byte-at-a-time path does the same where vectors
 * are not available, and for the last bytes of each string.
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

/* The state of cutting one string. Its folded text starts as a mirror of it, ASCII lower-cased
 * in place, so that a word of ASCII characters (nearly every word) is folded where it lies;
 * a word with other characters is built after the mirror instead. */
struct cutter {
	struct text_words *tw;
	uint32_t seg;
	uint32_t base; /* where the mirror starts in tw->fold */
	bool in_word;
	bool in_mirror;        /* the word is still the mirror's bytes [wstart, wend) */
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
	tw->n_to_ascii = 0;
}

/* Makes room for more folded bytes, and TEXT_PAD after them. */
static void fold_reserve(struct text_words *tw, size_t more)
{
	if (tw->fold_len + more + TEXT_PAD > tw->fold_cap)
		tw->fold = xgrow(tw->fold, &tw->fold_cap, tw->fold_len + more + TEXT_PAD, 1);
}

static inline void push_word(struct text_words *tw, uint32_t off, uint32_t len, uint32_t start,
			     uint32_t end, uint32_t seg, uint32_t flags)
{
	/* Checked here, inline: this runs for every word of every paper. */
	if (tw->n == tw->cap)
		tw->w = xgrow(tw->w, &tw->cap, tw->n + 1, sizeof(*tw->w));
	tw->w[tw->n++] = (struct text_word){off, len, start, end, seg, flags};
}

static inline void word_close(struct cutter *c)
{
	struct text_words *tw = c->tw;

	if (!c->in_word)
		return;
	c->in_word = false;
	if (c->in_mirror) {
		c->in_mirror = false;
		push_word(tw, c->woff, c->wend - c->wstart, c->wstart, c->wend, c->seg, 0);
	} else {
		push_word(tw, c->woff, (uint32_t)tw->fold_len - c->woff, c->wstart, c->wend, c->seg,
			  0);
	}
}

/* Moves the word begun in the mirror to the end of the folded text, where characters that fold
 * to other bytes can be added to it. */
static void word_leave_mirror(struct cutter *c)
{
	struct text_words *tw = c->tw;
	uint32_t len = c->wend - c->wstart;

	fold_reserve(tw, len);
	memcpy(tw->fold + tw->fold_len, tw->fold + c->woff, len);
	c->woff = (uint32_t)tw->fold_len;
	tw->fold_len += len;
	c->in_mirror = false;
}

/* One ASCII byte s[i], outside the vector path. */
static void cut_ascii_byte(struct cutter *c, unsigned char b, uint32_t i)
{
	struct text_words *tw = c->tw;
	char f = (char)ascii_fold[b];

	tw->fold[c->base + i] = f != 0 ? f : (char)b;
	if (f == 0) {
		word_close(c);
		return;
	}
	if (!c->in_word) {
		c->in_word = true;
		c->in_mirror = true;
		c->wstart = i;
		c->woff = c->base + i;
	} else if (!c->in_mirror) {
		fold_reserve(tw, 1);
		tw->fold[tw->fold_len++] = f;
	}
	c->wend = i + 1;
}

#ifdef __SSE2__
/* Sixteen ASCII bytes at s[i], lower-cased into the mirror at once; words found from the mask
 * of letters and digits, a word at a time rather than a byte at a time. */
static void cut_block(struct cutter *c, const unsigned char *s, uint32_t i)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
	__m128i low = _mm_or_si128(x, _mm_set1_epi8(0x20));
	__m128i letter = _mm_and_si128(_mm_cmpgt_epi8(low, _mm_set1_epi8('a' - 1)),
				       _mm_cmplt_epi8(low, _mm_set1_epi8('z' + 1)));
	__m128i digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
				      _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
	__m128i out = _mm_or_si128(_mm_and_si128(letter, low), _mm_andnot_si128(letter, x));
	unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(letter, digit));
	struct text_words *tw = c->tw;

	_mm_storeu_si128((__m128i *)(void *)(tw->fold + c->base + i), out);
	if (c->in_word) {
		/* The word before goes on for the run of letters and digits that starts here. */
		unsigned run = (unsigned)__builtin_ctz(~m | 0x10000u);

		if (!c->in_mirror) {
			fold_reserve(tw, run);
			memcpy(tw->fold + tw->fold_len, tw->fold + c->base + i, run);
			tw->fold_len += run;
		}
		c->wend = i + run;
		if (run == 16)
			return;
		word_close(c);
		m &= ~0u << run;
	}
	while (m != 0) {
		unsigned start = (unsigned)__builtin_ctz(m);
		unsigned end = (unsigned)__builtin_ctz((~m & 0xffffu & (~0u << start)) | 0x10000u);

		if (end == 16) {
			c->in_word = true;
			c->in_mirror = true;
			c->wstart = i + start;
			c->woff = c->base + i + start;
			c->wend = i + 16;
			return;
		}
		push_word(tw, c->base + i + start, end - start, i + start, i + end, c->seg, 0);
		m &= ~0u << end;
	}
}
#endif

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

/* Appends the UTF-8 of code point cp to the word, which leaves the mirror if it was there. */
static void append_cp(struct cutter *c, int32_t cp)
{
	struct text_words *tw = c->tw;

	if (c->in_mirror)
		word_leave_mirror(c);
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
		uint32_t off;

		word_close(c);
		off = (uint32_t)c->tw->fold_len;
		append_cp(c, cp);
		push_word(c->tw, off, (uint32_t)c->tw->fold_len - off, start, end, c->seg,
			  TEXT_WORD_NOSPACE);
	} else if (letter || digit || (mark && c->in_word)) {
		/* A mark belongs to the letter before it; alone it is nothing. */
		if (!c->in_word) {
			c->in_word = true;
			c->in_mirror = false;
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
		c->tw->fold[c->base + i] = (char)s[i];
		word_close(c);
		return i + 1;
	}
	for (end = i + (size_t)len; end < n && count < CLUSTER_MAX; end += (size_t)len, count++) {
		len = utf8proc_iterate(s + end, (utf8proc_ssize_t)(n - end), &next);
		if (len < 0 || !continues_cluster(next))
			break;
	}
	if (count == 1 && cp < 0x80) {
		cut_ascii_byte(c, (unsigned char)cp, (uint32_t)i);
		return end;
	}
	memcpy(c->tw->fold + c->base + i, s + i, end - i);
	if (cp < 0x80 && ascii_fold[cp] != 0)
		c->tw->fold[c->base + i] = (char)ascii_fold[cp];
	/* What follows may fold to other bytes, or to none (a soft hyphen): the word so far can no
	 * longer be the mirror's bytes. */
	if (c->in_word && c->in_mirror)
		word_leave_mirror(c);
	if (count == 1 && folds_to_itself(cp)) {
		emit_cp(c, cp, (uint32_t)i, (uint32_t)end);
		return end;
	}
	k = utf8proc_decompose(s + i, (utf8proc_ssize_t)(end - i), buf, FOLD_BUF, FOLD_OPTS);
	if (k >= 0 && k <= FOLD_BUF)
		k = utf8proc_normalize_utf32(buf, k, FOLD_OPTS);
	if (k < 0 || k > FOLD_BUF) {
		word_close(c);
		return end;
	}
	if (k == 1 && buf[0] < 0x80 && cp >= 0x80 && ascii_fold[buf[0]] >= 'a')
		c->tw->n_to_ascii++;
	for (utf8proc_ssize_t j = 0; j < k; j++)
		emit_cp(c, buf[j], (uint32_t)i, (uint32_t)end);
	return end;
}

/* Whether s[i..i+16] are all ASCII: the block, and the byte after it, which could be a mark
 * that composes with the block's last character. */
static bool block_is_ascii(const unsigned char *s, size_t n, size_t i)
{
#ifdef __SSE2__
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));

	return _mm_movemask_epi8(x) == 0 && (i + 16 == n || s[i + 16] < 0x80);
#else
	(void)s;
	(void)n;
	(void)i;
	return false;
#endif
}

uint32_t text_cut(struct text_words *tw, const char *str, size_t n, uint32_t seg)
{
	const unsigned char *s = (const unsigned char *)str;
	struct cutter c = {.tw = tw, .seg = seg};
	size_t i = 0;

	/* The mirror first; words that leave it are built after it. */
	fold_reserve(tw, n);
	c.base = (uint32_t)tw->fold_len;
	tw->fold_len += n;
	while (i < n) {
#ifdef __SSE2__
		if (i + 16 <= n && block_is_ascii(s, n, i)) {
			cut_block(&c, s, (uint32_t)i);
			i += 16;
			continue;
		}
#endif
		if (s[i] < 0x80 && (i + 1 == n || s[i + 1] < 0x80)) {
			cut_ascii_byte(&c, s[i], (uint32_t)i);
			i++;
		} else {
			i = cut_cluster(&c, s, n, i);
		}
	}
	word_close(&c);
	return c.base;
}

uint32_t text_add_verbatim(struct text_words *tw, const char *s, size_t n, uint32_t seg)
{
	uint32_t off = (uint32_t)tw->fold_len;

	fold_reserve(tw, n);
	for (size_t i = 0; i < n; i++)
		tw->fold[off + i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] | 0x20 : s[i]);
	tw->fold_len += n;
	push_word(tw, off, (uint32_t)n, 0, (uint32_t)n, seg, 0);
	return off;
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
