/*
 * match/text.h — cutting text into folded words for matching: NFKC and Unicode case folding, words
 * cut at every character that is neither a letter nor a digit, and each character of a script
 * written without spaces (Han, Hiragana, Katakana, Hangul) a word of its own. Queries and papers go
 * through the same code, so a query word and a text word compare as plain bytes.
 */
#ifndef PW_TEXT_H
#define PW_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes that may be read, and ignored, after the folded bytes of any word: a hash can load
 * eight bytes at a time. */
#define TEXT_PAD 16

/* A word is one character of a script written without spaces. */
#define TEXT_WORD_NOSPACE 1u

struct text_word {
	uint32_t off, len;   /* the folded bytes, at words->fold + off (not NUL-terminated) */
	uint32_t start, end; /* the original bytes the word was folded from: whole characters */
	uint32_t seg;        /* the caller's number for the string the word came from */
	uint32_t flags;      /* TEXT_WORD_* */
};

/* Words of one or more strings, cut one after the other; the buffers are kept between uses. */
struct text_words {
	struct text_word *w;
	size_t n, cap;
	char *fold; /* the folded bytes of all words, followed by TEXT_PAD bytes */
	size_t fold_len, fold_cap;
	/* Characters beyond ASCII met so far that fold to one ASCII letter (U+017F LONG S,
	 * U+212A KELVIN SIGN, full-width letters): a caseless regex may match them as ASCII. */
	size_t n_to_ascii;
};

void text_words_init(struct text_words *tw);
void text_words_free(struct text_words *tw);
/* Forgets the words but keeps the memory. */
void text_words_clear(struct text_words *tw);

/* Appends the words of s[0..n) to tw, each marked with seg. Bytes that are not valid UTF-8 cut
 * words like punctuation does. Never allocates per word: the buffers only grow. Returns where
 * the string's mirror starts in tw->fold: its n bytes again, ASCII letters lower-cased, every
 * other byte as it was. */
uint32_t text_cut(struct text_words *tw, const char *s, size_t n, uint32_t seg);

/* Appends s[0..n) as a single word, ASCII letters lower-cased and nothing cut or folded: for
 * arXiv ids, which are matched whole. Returns where its bytes, its mirror, start. */
uint32_t text_add_verbatim(struct text_words *tw, const char *s, size_t n, uint32_t seg);

/* The folded bytes of word i. */
static inline const char *text_word_bytes(const struct text_words *tw, size_t i)
{
	return tw->fold + tw->w[i].off;
}

/* Whether code point c belongs to a script written without spaces (by code-point range:
 * utf8proc has no script property). */
bool text_is_nospace(int32_t c);

/* Whether the folded word q also matches q + "es": it ends in s, x, z, ch, sh or o, as English
 * plurals in -es do (class, box, match, hero). Every word also matches q + "s". */
bool text_takes_es(const char *q, size_t qn);

/* Whether the folded text word t is the folded query word q by the word rule: the same, or q's
 * plural (q + "s", or q + "es" when text_takes_es). A query word of a script without spaces has
 * no plural. With prefix, whether t starts with q. */
bool text_word_is(const char *q, size_t qn, bool nospace, bool prefix, const char *t, size_t tn);

#endif
