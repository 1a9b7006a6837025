/*
 * parse/lex.c — scanning helpers shared by the digest formats. The text is scanned once; fields are
 * cleaned where they lie instead of being copied.
 */
#include <stdint.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LEX_AVX2 1
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lex.h"
#include "xmalloc.h"

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
/* Non-zero when some byte of v is zero, or (HAS_LESS) below n; exact as a yes/no answer. */
#define HAS_ZERO(v)    (((v)-ONES) & ~(v)&HIGHS)
#define HAS_LESS(v, n) (((v)-ONES * (n)) & ~(v)&HIGHS)

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Whether c is part of a word: an ASCII letter or digit, or a byte of a non-ASCII character. */
static bool is_word_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
	       (unsigned char)c >= 0x80;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

void lines_init(struct lines *it, char *text, size_t len, unsigned first_no)
{
	it->p = text;
	it->end = text + len;
	it->no = first_no - 1;
}

bool lines_next(struct lines *it, struct span *line)
{
	char *nl;

	if (it->p >= it->end)
		return false;
	nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
	line->s = it->p;
	line->n = (size_t)((nl ? nl : it->end) - it->p);
	/* cppcheck-suppress knownConditionTrueFalse ; nl == it->p, an empty line, gives 0 */
	if (line->n > 0 && line->s[line->n - 1] == '\r')
		line->n--;
	it->p = nl ? nl + 1 : it->end;
	it->no++;
	return true;
}

#ifdef __SSE2__
/* Bits set in a 16-bit mask; the builtin would call libgcc without -mpopcnt. Only the vector
 * scan uses it: elsewhere it would be an unused function, an error under -Werror. */
static unsigned popcount16(unsigned x)
{
	x = x - ((x >> 1) & 0x5555u);
	x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
	x = (x + (x >> 4)) & 0x0f0fu;
	return (x + (x >> 8)) & 0x1fu;
}
#endif

unsigned lex_count_lines(const char *s, size_t n)
{
	unsigned count = 0;

	for (const char *end = s + n; (s = memchr(s, '\n', (size_t)(end - s))) != NULL; s++)
		count++;
	return count;
}

#ifdef __SSE2__
/* The sum of the sixteen byte lanes of v. */
static unsigned sum_lanes(__m128i v)
{
	__m128i s = _mm_sad_epu8(v, _mm_setzero_si128());

	return (unsigned)_mm_extract_epi16(s, 0) + (unsigned)_mm_extract_epi16(s, 4);
}

/* Whether the 64 positions from q on hold no line break followed by a, b or c; if so, the
 * breaks they hold are added to the byte lanes of *lanes. */
static bool skip64(const char *q, __m128i nl, __m128i va, __m128i vb, __m128i vc, __m128i *lanes)
{
	__m128i hits = _mm_setzero_si128(), breaks = _mm_setzero_si128();

	for (int k = 0; k < 64; k += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(q + k));
		__m128i y = _mm_loadu_si128((const __m128i *)(const void *)(q + k + 1));
		__m128i br = _mm_cmpeq_epi8(x, nl);

		__m128i to =
			_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(y, va), _mm_cmpeq_epi8(y, vb)),
				     _mm_cmpeq_epi8(y, vc));

		hits = _mm_or_si128(hits, _mm_and_si128(br, to));
		breaks = _mm_sub_epi8(breaks, br); /* a break compares as -1 */
	}
	if (_mm_movemask_epi8(hits) != 0)
		return false;
	*lanes = _mm_add_epi8(*lanes, breaks);
	return true;
}

/* Moves q on by 64 bytes at a time while they hold no line break followed by a, b or c (a
 * paragraph), stopping with more than 64 bytes left; adds the breaks passed to *no. They are
 * counted in byte lanes, each of which takes at most four a round and is added up before it
 * can overflow. */
static char *skip_rounds_sse2(char *q, const char *end, char a, char b, char c, unsigned *no)
{
	const __m128i nl = _mm_set1_epi8('\n'), va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b);
	const __m128i vc = _mm_set1_epi8(c);
	__m128i lanes = _mm_setzero_si128();
	unsigned rounds = 0;

	while (end - q > 64 && skip64(q, nl, va, vb, vc, &lanes)) {
		q += 64;
		if (++rounds == 255 / 4) {
			*no += sum_lanes(lanes);
			lanes = _mm_setzero_si128();
			rounds = 0;
		}
	}
	*no += sum_lanes(lanes);
	return q;
}
#endif

/* Whether the scans may use AVX2: -1 until the processor is asked. */
static int avx2 = -1;

void lex_allow_avx2(bool allow)
{
	avx2 = allow ? -1 : 0;
}

#ifdef LEX_AVX2
static bool have_avx2(void)
{
	if (avx2 < 0)
		avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
	return avx2 == 1;
}

/* The sum of the 32 byte lanes of v. */
__attribute__((target("avx2"))) static unsigned sum_lanes32(__m256i v)
{
	__m256i s = _mm256_sad_epu8(v, _mm256_setzero_si256());
	__m128i t = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));

	return (unsigned)_mm_cvtsi128_si32(t) + (unsigned)_mm_extract_epi16(t, 4);
}

/* skip_rounds_sse2 with 32-byte registers, whose lanes take at most two a round. */
__attribute__((target("avx2"))) static char *skip_rounds_avx2(char *q, const char *end, char a,
							      char b, char c, unsigned *no)
{
	const __m256i nl = _mm256_set1_epi8('\n'), va = _mm256_set1_epi8(a);
	const __m256i vb = _mm256_set1_epi8(b), vc = _mm256_set1_epi8(c);
	__m256i lanes = _mm256_setzero_si256();
	unsigned rounds = 0;

	while (end - q > 64) {
		__m256i x0 = _mm256_loadu_si256((const __m256i *)(const void *)q);
		__m256i y0 = _mm256_loadu_si256((const __m256i *)(const void *)(q + 1));
		__m256i x1 = _mm256_loadu_si256((const __m256i *)(const void *)(q + 32));
		__m256i y1 = _mm256_loadu_si256((const __m256i *)(const void *)(q + 33));
		__m256i b0 = _mm256_cmpeq_epi8(x0, nl), b1 = _mm256_cmpeq_epi8(x1, nl);
		__m256i t0 = _mm256_or_si256(
			_mm256_or_si256(_mm256_cmpeq_epi8(y0, va), _mm256_cmpeq_epi8(y0, vb)),
			_mm256_cmpeq_epi8(y0, vc));
		__m256i t1 = _mm256_or_si256(
			_mm256_or_si256(_mm256_cmpeq_epi8(y1, va), _mm256_cmpeq_epi8(y1, vb)),
			_mm256_cmpeq_epi8(y1, vc));
		__m256i hits = _mm256_or_si256(_mm256_and_si256(b0, t0), _mm256_and_si256(b1, t1));

		if (!_mm256_testz_si256(hits, hits))
			break;
		lanes = _mm256_sub_epi8(_mm256_sub_epi8(lanes, b0), b1);
		q += 64;
		if (++rounds == 255 / 2) {
			*no += sum_lanes32(lanes);
			lanes = _mm256_setzero_si256();
			rounds = 0;
		}
	}
	*no += sum_lanes32(lanes);
	return q;
}
#endif

#ifdef __SSE2__
/* skip_rounds_sse2 with the widest registers the processor has. */
static char *skip_rounds(char *q, const char *end, char a, char b, char c, unsigned *no)
{
#ifdef LEX_AVX2
	if (have_avx2())
		return skip_rounds_avx2(q, end, a, b, c, no);
#endif
	return skip_rounds_sse2(q, end, a, b, c, no);
}
#endif

struct span lines_skip_to(struct lines *it, char a, char b, char c)
{
	char *start = it->p, *q = it->p, *end = it->end;

#ifdef __SSE2__
	/* A line break followed by a, b or c: 64 positions at a time while there is none, then 16
	 * at a time to find the hit. */
	const __m128i nl = _mm_set1_epi8('\n'), va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b);
	const __m128i vc = _mm_set1_epi8(c);

	q = skip_rounds(q, end, a, b, c, &it->no);
	while (end - q > 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
		__m128i y = _mm_loadu_si128((const __m128i *)(const void *)(q + 1));
		unsigned breaks = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, nl));
		unsigned hits =
			breaks & (unsigned)_mm_movemask_epi8(_mm_or_si128(
					 _mm_or_si128(_mm_cmpeq_epi8(y, va), _mm_cmpeq_epi8(y, vb)),
					 _mm_cmpeq_epi8(y, vc)));

		if (hits != 0) {
			unsigned at = (unsigned)__builtin_ctz(hits);

			it->no += popcount16(breaks & ((2u << at) - 1));
			it->p = q + at + 1;
			return (struct span){start, (size_t)(it->p - start)};
		}
		it->no += popcount16(breaks);
		q += 16;
	}
#endif
	for (; q < end; q++) {
		if (*q != '\n')
			continue;
		it->no++;
		if (q + 1 < end && (q[1] == a || q[1] == b || q[1] == c)) {
			it->p = q + 1;
			return (struct span){start, (size_t)(it->p - start)};
		}
	}
	it->p = end;
	return (struct span){start, (size_t)(end - start)};
}

struct span span_trim(struct span s)
{
	while (s.n > 0 && is_space(s.s[0])) {
		s.s++;
		s.n--;
	}
	while (s.n > 0 && is_space(s.s[s.n - 1]))
		s.n--;
	return s;
}

struct span span_skip(struct span s, size_t n)
{
	if (n > s.n)
		n = s.n;
	s.s += n;
	s.n -= n;
	return s;
}

bool span_starts(struct span s, const char *prefix)
{
	size_t i = 0;

	for (; prefix[i]; i++) {
		if (i >= s.n || lower(s.s[i]) != lower(prefix[i]))
			return false;
	}
	return true;
}

struct span lex_unemphasis(struct span s)
{
	s = span_trim(s);
	while (s.n > 0 && (s.s[0] == '*' || s.s[0] == '_'))
		s = span_skip(s, 1);
	while (s.n > 0 && (s.s[s.n - 1] == '*' || s.s[s.n - 1] == '_'))
		s.n--;
	return span_trim(s);
}

/* s trimmed, without "**" around it. */
static struct span span_unbold(struct span s)
{
	s = span_trim(s);
	while (s.n >= 4 && s.s[0] == '*' && s.s[1] == '*' && s.s[s.n - 1] == '*' &&
	       s.s[s.n - 2] == '*') {
		s.s += 2;
		s.n -= 4;
		s = span_trim(s);
	}
	return s;
}

bool span_is(struct span s, const char *word)
{
	s = span_unbold(s);
	return s.n == strlen(word) && span_starts(s, word);
}

/* Whether the '|' at s[i] is escaped: preceded by an odd number of backslashes. */
static bool escaped(const char *s, size_t i)
{
	size_t k = 0;

	while (k < i && s[i - k - 1] == '\\')
		k++;
	return k % 2 == 1;
}

size_t lex_cells(struct span row, struct span *cells, size_t max)
{
	size_t count = 0, start, i;

	row = span_trim(row);
	start = (row.n > 0 && row.s[0] == '|') ? 1 : 0;
	for (i = start;; i++) {
		char *bar = memchr(row.s + i, '|', row.n - i);

		if (bar == NULL)
			break;
		i = (size_t)(bar - row.s);
		if (escaped(row.s, i))
			continue;
		if (count < max)
			cells[count] = (struct span){row.s + start, i - start};
		count++;
		start = i + 1;
	}
	/* Text after the last bar is a cell of a row written without the closing bar. */
	if (start < row.n && span_trim((struct span){row.s + start, row.n - start}).n > 0) {
		if (count < max)
			cells[count] = (struct span){row.s + start, row.n - start};
		count++;
	}
	return count;
}

bool lex_separator_row(const struct span *cells, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		struct span c = span_trim(cells[i]);
		size_t dashes = 0;

		for (size_t k = 0; k < c.n; k++) {
			if (c.s[k] == '-')
				dashes++;
			else if (c.s[k] != ':' || (k != 0 && k != c.n - 1))
				return false;
		}
		if (dashes == 0)
			return false;
	}
	return true;
}

/* Offset of the first of bytes a, b or c in s[0..n), or n; sixteen bytes at a time. */
static size_t find3(const char *s, size_t n, char a, char b, char c)
{
	size_t i = 0;

#ifdef __SSE2__
	const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b), vc = _mm_set1_epi8(c);

	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		int mask = _mm_movemask_epi8(
			_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vb)),
				     _mm_cmpeq_epi8(x, vc)));

		if (mask != 0)
			return i + (size_t)__builtin_ctz((unsigned)mask);
	}
#endif
	for (; i < n; i++) {
		if (s[i] == a || s[i] == b || s[i] == c)
			return i;
	}
	return n;
}

/* Offset of the first blank byte (space, tab, line break...) in s[0..n), or n. Every link of every
 * row is looked through for one, so this goes 16 bytes at a time over the bytes up to ' '. */
static size_t first_space(const char *s, size_t n)
{
	size_t i = 0;

#ifdef __SSE2__
	const __m128i blank = _mm_set1_epi8(' ');

	for (; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		unsigned low =
			(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, blank), x));

		for (; low != 0; low &= low - 1) {
			size_t at = i + (size_t)__builtin_ctz(low);

			if (is_space(s[at]))
				return at;
		}
	}
#endif
	for (; i < n; i++) {
		if (is_space(s[i]))
			return i;
	}
	return n;
}

/* Bounds that keep finding a link linear whatever the cell holds: URLs are never this long,
 * and no real cell offers this many "](" before its link. */
#define LINK_URL_MAX 2048
#define LINK_TRIES   64
#define LINK_DEPTH   16

/* Index of the ')' closing the '(' at s[open], allowing nested parentheses, looking at most
 * LINK_URL_MAX bytes on; n when there is none. */
static size_t close_paren(const char *s, size_t n, size_t open)
{
	size_t end = n - open > LINK_URL_MAX ? open + LINK_URL_MAX : n;
	int depth = 0;

	for (size_t i = open; i < end; i++) {
		i += find3(s + i, end - i, '(', ')', ')');
		if (i == end)
			break;
		if (s[i] == '(')
			depth++;
		else if (--depth == 0)
			return i;
	}
	return n;
}

/* One pass: open brackets go on a small stack, and a ']' followed by '(' closes the link whose
 * '[' is on top. Escaped brackets are text; brackets nested deeper than the stack are counted
 * but cannot start a link. */
bool lex_link(struct span s, struct span *before, struct span *text, struct span *url)
{
	size_t open[LINK_DEPTH], depth = 0;
	int tries = 0;

	for (size_t i = 0; i < s.n; i++) {
		size_t rp, start;

		i += find3(s.s + i, s.n - i, '[', ']', '\\');
		if (i >= s.n)
			break;
		if (s.s[i] == '\\') {
			i++;
			continue;
		}
		if (s.s[i] == '[') {
			if (depth < LINK_DEPTH)
				open[depth] = i;
			depth++;
			continue;
		}
		if (depth == 0 || --depth >= LINK_DEPTH || i + 1 >= s.n || s.s[i + 1] != '(')
			continue;
		if (++tries > LINK_TRIES)
			return false;
		rp = close_paren(s.s, s.n, i + 1);
		if (rp == s.n)
			continue;
		start = open[depth];
		*before = (struct span){s.s, start};
		*text = (struct span){s.s + start + 1, i - start - 1};
		*url = span_trim((struct span){s.s + i + 2, rp - i - 2});
		/* A link title ("url "title"") is not part of the address. */
		url->n = first_space(url->s, url->n);
		if (url->n >= 2 && url->s[0] == '<' && url->s[url->n - 1] == '>') {
			url->s++;
			url->n -= 2;
		}
		return true;
	}
	return false;
}

/* Length of a new-style id "YYMM.NNNN[N]" at s, or 0. */
static size_t new_style_id(const char *s, size_t n)
{
	size_t k = 5;
	int month;

	if (n < 9 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2]) || !is_digit(s[3]) ||
	    s[4] != '.')
		return 0;
	month = (s[2] - '0') * 10 + (s[3] - '0');
	if (month < 1 || month > 12)
		return 0;
	while (k < n && is_digit(s[k]) && k < 10)
		k++;
	if (k < 9 || (k < n && is_digit(s[k])))
		return 0;
	return k;
}

/* Length of an old-style id "archive[.XX]/YYMMNNN" at s, or 0. */
static size_t old_style_id(const char *s, size_t n)
{
	size_t k = 0, d;

	while (k < n && ((s[k] >= 'a' && s[k] <= 'z') || s[k] == '-'))
		k++;
	if (k == 0)
		return 0;
	if (k + 3 < n && s[k] == '.' && s[k + 1] >= 'A' && s[k + 1] <= 'Z' && s[k + 2] >= 'A' &&
	    s[k + 2] <= 'Z')
		k += 3;
	if (k >= n || s[k] != '/')
		return 0;
	for (d = 0, k++; k < n && is_digit(s[k]); k++)
		d++;
	return d == 7 && (k == n || !is_digit(s[k])) ? k : 0;
}

/* Reads an id and optional version at the start of s. */
static bool id_at(struct span s, char id[ARXIV_ID_MAX], char version[ARXIV_VER_MAX])
{
	size_t len = new_style_id(s.s, s.n), v = 0;

	if (len == 0)
		len = old_style_id(s.s, s.n);
	if (len == 0 || len >= ARXIV_ID_MAX)
		return false;
	memcpy(id, s.s, len);
	id[len] = '\0';
	if (len < s.n && s.s[len] == 'v') {
		for (v = 1; len + v < s.n && is_digit(s.s[len + v]) && v < ARXIV_VER_MAX - 1; v++)
			;
		if (v == 1)
			v = 0;
	}
	memcpy(version, s.s + len, v);
	version[v] = '\0';
	return true;
}

/* Whether host is name itself or a subdomain of it ("export.arxiv.org"). */
static bool host_is(struct span host, const char *name, size_t n)
{
	if (host.n < n)
		return false;
	/* Compared inline: every link of every row comes through here. */
	for (size_t i = 0; i < n; i++) {
		if (lower(host.s[host.n - n + i]) != name[i])
			return false;
	}
	return host.n == n || host.s[host.n - n - 1] == '.';
}

/* The path of an arXiv DOI up to the id, as doi.org writes it. */
#define ARXIV_DOI_PATH "/10.48550/arxiv."
/* How many emphasis markers and blanks may stand around the colon of an "arXiv: ID" label. */
#define LABEL_MARKS_MAX 4

static bool is_mark(char c)
{
	return c == '*' || c == '_' || c == ' ';
}

/* The id of an "arXiv:ID" label at s, which starts after "arXiv" (its emphasis allowed:
 * "**arXiv:** ID", "*arXiv*: ID"); *len is the label's length before the id. */
static bool label_id(struct span s, char id[ARXIV_ID_MAX], char version[ARXIV_VER_MAX], size_t *len)
{
	size_t i = 0, marks = 0;

	while (i < s.n && marks < LABEL_MARKS_MAX && (s.s[i] == '*' || s.s[i] == '_'))
		i++, marks++;
	if (i >= s.n || s.s[i] != ':')
		return false;
	for (i++, marks = 0; i < s.n && marks < LABEL_MARKS_MAX && is_mark(s.s[i]); i++)
		marks++;
	*len = i;
	return id_at(span_skip(s, i), id, version);
}

/* The id in the path of a paper URL on host; false when the URL is not one. */
static bool url_path_id(struct span host, struct span path, char id[ARXIV_ID_MAX],
			char version[ARXIV_VER_MAX])
{
	size_t skip;
	/* Readers of arXiv papers that keep arXiv's paths: alphaXiv, ar5iv. */
	bool reader = host_is(host, "alphaxiv.org", 12) || host_is(host, "ar5iv.org", 9);

	if (host_is(host, "huggingface.co", 14) || host_is(host, "hf.co", 5))
		return span_starts(path, "/papers/") && id_at(span_skip(path, 8), id, version);
	if (reader && span_starts(path, "/overview/"))
		return id_at(span_skip(path, 10), id, version);
	/* arXiv's DOIs: "doi.org/10.48550/arXiv.2410.07177". */
	if (host_is(host, "doi.org", 7))
		return span_starts(path, ARXIV_DOI_PATH) &&
		       id_at(span_skip(path, sizeof(ARXIV_DOI_PATH) - 1), id, version);
	if (!(reader || host_is(host, "arxiv.org", 9)) || path.n < 5)
		return false;
	/* "/abs/", "/pdf/" or "/html/", told apart by their first letter. */
	switch (lower(path.s[1])) {
	case 'a':
		skip = span_starts(path, "/abs/") ? 5 : 0;
		break;
	case 'p':
		skip = span_starts(path, "/pdf/") ? 5 : 0;
		break;
	case 'h':
		skip = span_starts(path, "/html/") ? 6 : 0;
		break;
	default:
		skip = 0;
	}
	return skip > 0 && id_at(span_skip(path, skip), id, version);
}

/* Splits what follows "scheme://" (or a bare "host/path") at the first slash. */
static bool split_host(struct span s, struct span *host, struct span *path)
{
	const char *slash = memchr(s.s, '/', s.n);

	if (slash == NULL)
		return false;
	*host = (struct span){s.s, (size_t)(slash - s.s)};
	*path = span_skip(s, host->n);
	return true;
}

bool lex_arxiv_id(struct span s, char id[ARXIV_ID_MAX], char version[ARXIV_VER_MAX])
{
	struct span host, path;
	const char *scheme;

	s = span_trim(s);
	scheme = memchr(s.s, ':', s.n);
	if (scheme != NULL && (scheme + 3 > s.s + s.n || scheme[1] != '/' || scheme[2] != '/'))
		scheme = NULL;
	if (scheme == NULL) {
		/* "arxiv.org/abs/ID" written without its scheme is still a link. */
		if (split_host(s, &host, &path) && url_path_id(host, path, id, version))
			return true;
		struct span label = s;
		size_t len;

		while (label.n > 0 && (label.s[0] == '*' || label.s[0] == '_'))
			label = span_skip(label, 1);
		if (span_starts(label, "arxiv") && label_id(span_skip(label, 5), id, version, &len))
			return true;
		return id_at(s, id, version);
	}
	if (!split_host(span_skip(s, (size_t)(scheme - s.s) + 3), &host, &path))
		return false;
	return url_path_id(host, path, id, version);
}

/* Whether c may be part of a host name. */
static bool is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' ||
	       c == '-';
}

/* Whether c ends a URL written in Markdown or plain text. */
static bool ends_url(char c)
{
	return is_space(c) || c == ')' || c == ']' || c == '>' || c == '<' || c == '|' ||
	       c == '"' || c == '\'' || c == '`' || c == '*' || c == '\0';
}

/* What the link scan looks for: the rarest part of each host name, compared case-insensitively
 * ("arxiv", "arXiv"); a candidate starts with the first three bytes of one. */
#define ARXIV_NEEDLE "xiv.org/"
#define HF_NEEDLE    "ggingface.co/papers/"

void link_scan_init(struct link_scan *ls, struct span text)
{
	ls->text = text;
	ls->pos = 0;
}

static bool is_candidate(const char *s, size_t n)
{
	return n >= 3 && ((lower(s[0]) == 'x' && lower(s[1]) == 'i' && lower(s[2]) == 'v') ||
			  (s[0] == 'g' && s[1] == 'g' && lower(s[2]) == 'i'));
}

/* The next place at or after ls->pos where a needle may start ("xiv" in any case, "ggi"),
 * sixteen bytes at a time: both hosts in one pass. */
static bool scan_next_candidate(struct link_scan *ls, size_t *at)
{
	const char *s = ls->text.s;
	size_t n = ls->text.n, i = ls->pos;

#ifdef __SSE2__
	const __m128i x = _mm_set1_epi8('x'), i_ = _mm_set1_epi8('i'), g = _mm_set1_epi8('g');
	const __m128i v = _mm_set1_epi8('v'), up = _mm_set1_epi8(0x20);

	for (; i + 18 <= n; i += 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 1));
		__m128i c = _mm_or_si128(
			_mm_loadu_si128((const __m128i *)(const void *)(s + i + 2)), up);
		__m128i xi = _mm_and_si128(_mm_cmpeq_epi8(_mm_or_si128(a, up), x),
					   _mm_cmpeq_epi8(_mm_or_si128(b, up), i_));
		__m128i gg = _mm_and_si128(_mm_cmpeq_epi8(a, g), _mm_cmpeq_epi8(b, g));
		unsigned cand;

		xi = _mm_and_si128(xi, _mm_cmpeq_epi8(c, v));
		gg = _mm_and_si128(gg, _mm_cmpeq_epi8(c, i_));
		cand = (unsigned)_mm_movemask_epi8(_mm_or_si128(xi, gg));
		if (cand != 0) {
			*at = i + (unsigned)__builtin_ctz(cand);
			ls->pos = *at + 1;
			return true;
		}
	}
#endif
	for (; i < n; i++) {
		if (is_candidate(s + i, n - i)) {
			*at = i;
			ls->pos = i + 1;
			return true;
		}
	}
	ls->pos = n;
	return false;
}

/* Whether the candidate at t[at] is a host name hit: the whole needle follows. */
static bool host_hit(const struct span *t, size_t at)
{
	const char *c = t->s + at;
	size_t left = t->n - at;

	return (left >= sizeof(ARXIV_NEEDLE) - 1 &&
		strncasecmp(c, ARXIV_NEEDLE, sizeof(ARXIV_NEEDLE) - 1) == 0) ||
	       (left >= sizeof(HF_NEEDLE) - 1 &&
		strncasecmp(c, HF_NEEDLE, sizeof(HF_NEEDLE) - 1) == 0);
}

/* The id after a host hit: at is on the needle ("xiv.org/" of "arxiv.org/", "ggingface.co/papers/"
 * of "huggingface.co/papers/"), *after where the id starts; false when the host is not one of
 * ours or the path names no paper.
 * This is the check every link of every digest goes through, so it looks only where an id can be.
 */
static bool hit_id(const struct span *t, size_t at, size_t start, char id[ARXIV_ID_MAX],
		   char version[ARXIV_VER_MAX], size_t *after)
{
	static const struct {
		const char *path;
		size_t len;
	} paths[] = {{"abs/", 4}, {"pdf/", 4}, {"html/", 5}};
	const char *s = t->s;
	struct span rest;

	if (s[at] == 'g') {
		if (at < start + 2 || strncasecmp(s + at - 2, "hu", 2) != 0 ||
		    (at > start + 2 && s[at - 3] != '.'))
			return false;
		rest = span_skip(*t, at + sizeof(HF_NEEDLE) - 1);
		*after = (size_t)(rest.s - s);
		return id_at(rest, id, version);
	}
	/* "arxiv.org/", or alphaXiv's "alphaxiv.org/", which keeps arXiv's paths. */
	if (at >= start + 5 && strncasecmp(s + at - 5, "alpha", 5) == 0 &&
	    (at == start + 5 || s[at - 6] == '.')) {
		rest = span_skip(*t, at + sizeof(ARXIV_NEEDLE) - 1);
		if (rest.n >= 9 && strncasecmp(rest.s, "overview/", 9) == 0) {
			*after = (size_t)(rest.s - s) + 9;
			return id_at(span_skip(rest, 9), id, version);
		}
	} else if (at < start + 2 || strncasecmp(s + at - 2, "ar", 2) != 0 ||
		   (at > start + 2 && s[at - 3] != '.')) {
		return false;
	}
	rest = span_skip(*t, at + sizeof(ARXIV_NEEDLE) - 1);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (rest.n >= paths[i].len &&
		    strncasecmp(rest.s, paths[i].path, paths[i].len) == 0) {
			*after = (size_t)(rest.s - s) + paths[i].len;
			return id_at(span_skip(rest, paths[i].len), id, version);
		}
	}
	return false;
}

/* Whether the "xiv" at t[at] is the end of the word "arXiv" (not of a longer word). */
static bool after_arxiv_word(const struct span *t, size_t at)
{
	return at >= 2 && strncasecmp(t->s + at - 2, "ar", 2) == 0 &&
	       (at == 2 || !is_word_byte(t->s[at - 3]));
}

/* A paper named without an arXiv URL at the candidate t[at]: "arXiv:ID" (start is at its 'a',
 * *after where the id starts) or an arXiv DOI ("https://doi.org/10.48550/arXiv.ID"). */
static bool other_id(const struct span *t, size_t at, char id[ARXIV_ID_MAX],
		     char version[ARXIV_VER_MAX], size_t *start, size_t *after)
{
	static const char doi[] = "10.48550/ar";
	const size_t doi_len = sizeof(doi) - 1, host_len = sizeof("doi.org/") - 1;
	size_t label;

	if (t->s[at] == 'g' || t->s[at] == 'G')
		return false;
	if (after_arxiv_word(t, at) && label_id(span_skip(*t, at + 3), id, version, &label)) {
		*start = at - 2;
		*after = at + 3 + label;
		return true;
	}
	if (at < doi_len || strncasecmp(t->s + at - doi_len, doi, doi_len) != 0 || at + 3 >= t->n ||
	    t->s[at + 3] != '.' || !id_at(span_skip(*t, at + 4), id, version))
		return false;
	*start = at - doi_len;
	*after = at + 4;
	if (*start >= host_len && strncasecmp(t->s + *start - host_len, "doi.org/", host_len) == 0)
		for (*start -= host_len; *start > 0 && is_host_char(t->s[*start - 1]); (*start)--)
			;
	return true;
}

bool link_scan_next(struct link_scan *ls, struct span *url, char id[ARXIV_ID_MAX],
		    char version[ARXIV_VER_MAX])
{
	const struct span *t = &ls->text;
	size_t at, start, end;

	while (scan_next_candidate(ls, &at)) {
		if (host_hit(t, at)) {
			for (start = at; start > 0 && is_host_char(t->s[start - 1]); start--)
				;
			if (!hit_id(t, at, start, id, version, &end))
				continue;
		} else if (!other_id(t, at, id, version, &start, &end)) {
			continue;
		}
		/* The address goes on after its id by a version, ".pdf" or a query at most. */
		for (end += strlen(id); end < t->n && !ends_url(t->s[end]); end++)
			;
		/* The scheme, when there is one, is part of the URL as written. */
		if (start >= 3 && memcmp(t->s + start - 3, "://", 3) == 0) {
			start -= 3;
			while (start > 0 && ((t->s[start - 1] >= 'a' && t->s[start - 1] <= 'z') ||
					     (t->s[start - 1] >= 'A' && t->s[start - 1] <= 'Z')))
				start--;
		}
		*url = (struct span){t->s + start, end - start};
		ls->pos = end;
		return true;
	}
	return false;
}

/* Link texts that say where a link goes rather than what the paper is called. */
static const char *const generic_texts[] = {
	"arxiv",      "arxiv abs",    "abs",     "pdf",      "html",      "paper",
	"full paper", "link",         "here",    "read",     "read more", "huggingface",
	"hf",         "hugging face", "code",    "github",   "project",   "project page",
	"page",       "website",      "summary", "abstract", "url",       "view",
	"download",   "details",      "more",
};

/* Lower-cased letters and digits of s, one space between words: how a link text is compared. */
static size_t squeeze(const char *s, size_t n, char *out, size_t max)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < max; i++) {
		char c = lower(s[i]);

		if ((c >= 'a' && c <= 'z') || is_digit(c))
			out[o++] = c;
		else if (o > 0 && out[o - 1] != ' ')
			out[o++] = ' ';
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return o;
}

bool lex_names_nothing(struct span text)
{
	char id[ARXIV_ID_MAX], version[ARXIV_VER_MAX], word[32];

	text = span_trim(text);
	if (text.n == 0 || span_starts(text, "http") || lex_arxiv_id(text, id, version))
		return true;
	if (text.n >= sizeof(word))
		return false;
	if (squeeze(text.s, text.n, word, sizeof(word)) == 0)
		return true;
	for (size_t i = 0; i < sizeof(generic_texts) / sizeof(generic_texts[0]); i++) {
		if (strcmp(word, generic_texts[i]) == 0)
			return true;
	}
	return false;
}

size_t lex_heading(struct span line)
{
	size_t level = 0;

	while (level < line.n && line.s[level] == '#')
		level++;
	return level >= 1 && level <= 6 && (level == line.n || line.s[level] == ' ') ? level : 0;
}

bool lex_list_item(struct span line, struct span *content, size_t *indent)
{
	size_t i = 0, d;

	while (i < line.n && (line.s[i] == ' ' || line.s[i] == '\t'))
		i++;
	*indent = i;
	if (i + 1 < line.n && (line.s[i] == '-' || line.s[i] == '*' || line.s[i] == '+') &&
	    line.s[i + 1] == ' ') {
		*content = span_trim(span_skip(line, i + 2));
		return true;
	}
	for (d = i; d < line.n && d - i < 9 && is_digit(line.s[d]); d++)
		;
	if (d > i && d + 1 < line.n && (line.s[d] == '.' || line.s[d] == ')') &&
	    line.s[d + 1] == ' ') {
		*content = span_trim(span_skip(line, d + 2));
		return true;
	}
	return false;
}

/* Words a generator puts between a title and its link ("Title - read more on [arXiv](url)"). */
static const struct {
	const char *w;
	size_t n;
} title_tails[] = {
	{"read more on", 12}, {"read more at", 12}, {"read more", 9},
	{"more on", 7},       {"available on", 12}, {"available at", 12},
};

/* Whether s ends with the word w (n bytes), compared case-insensitively. */
static bool ends_with_word(struct span s, const char *w, size_t n)
{
	/* Most titles end in none of the phrases' last letters: one byte tells. */
	if (s.n < n || lower(s.s[s.n - 1]) != w[n - 1])
		return false;
	return strncasecmp(s.s + s.n - n, w, n) == 0 &&
	       (s.n == n || !is_word_byte(s.s[s.n - n - 1]));
}

/* Whether c separates a title from what a generator wrote after it. */
static bool is_title_sep(char c)
{
	return is_space(c) || c == '-' || c == ':' || c == '|' || c == ',' || c == '(' || c == ';';
}

/* Whether c may mark a line before a title: a list bullet, a heading, a quote. */
static bool is_title_mark(char c)
{
	return is_title_sep(c) || c == '#' || c == '>' || c == '*' || c == '+';
}

/* The length of a list number ("1.", "12)", "[3]") at the start of s, or 0. */
static size_t list_number(struct span s)
{
	size_t i = s.n > 0 && s.s[0] == '[' ? 1 : 0, d = i;

	while (d < s.n && is_digit(s.s[d]))
		d++;
	if (d == i || d - i > 3 || d >= s.n)
		return 0;
	if ((i == 0 && (s.s[d] == '.' || s.s[d] == ')')) || (i == 1 && s.s[d] == ']'))
		return d + 1;
	return 0;
}

size_t lex_symbol_len(struct span s)
{
	const unsigned char *u = (const unsigned char *)s.s;

	if (s.n >= 2 && u[0] == 0xc2 && u[1] == 0xb7)
		return 2;
	/* Quotation marks (U+2018-U+201F, U+2039, U+203A) are text: a title may open with one. */
	if (s.n >= 3 && u[0] == 0xe2 && u[1] >= 0x80 && u[1] <= 0xaf &&
	    !(u[1] == 0x80 && ((u[2] >= 0x98 && u[2] <= 0x9f) || u[2] == 0xb9 || u[2] == 0xba)))
		return 3;
	if (s.n >= 3 && u[0] == 0xef && u[1] == 0xb8 && u[2] == 0x8f)
		return 3;
	if (s.n >= 4 && u[0] == 0xf0 && u[1] == 0x9f)
		return 4;
	return 0;
}

size_t lex_html_tag(struct span s)
{
	const char *gt;

	if (s.n < 3 || s.s[0] != '<' ||
	    !((s.s[1] >= 'a' && s.s[1] <= 'z') || (s.s[1] >= 'A' && s.s[1] <= 'Z') ||
	      s.s[1] == '/' || s.s[1] == '!'))
		return 0;
	gt = memchr(s.s, '>', s.n);
	return gt != NULL ? (size_t)(gt - s.s) + 1 : 0;
}

/* The length of an HTML anchor's tag opening s ("<a id=...>", "</a>"); 0 when none. */
static size_t anchor_len(struct span s)
{
	return span_starts(s, "<a ") || span_starts(s, "</a>") ? lex_html_tag(s) : 0;
}

/* The length of an empty HTML anchor ending s, "<a name=...></a>", or 0. */
static size_t trailing_anchor_len(struct span s)
{
	const char *open;

	if (s.n < 8 || memcmp(s.s + s.n - 4, "</a>", 4) != 0 || s.s[s.n - 5] != '>')
		return 0;
	open = memrchr(s.s, '<', s.n - 5);
	if (open == NULL || !span_starts(span_skip(s, (size_t)(open - s.s)), "<a "))
		return 0;
	return (size_t)(s.s + s.n - open);
}

/* The length of an attribute block ending s, " {#anchor .class}", or 0. */
static size_t attributes_len(struct span s)
{
	const char *open;

	if (s.n < 3 || s.s[s.n - 1] != '}')
		return 0;
	open = memrchr(s.s, '{', s.n);
	if (open == NULL || open + 1 >= s.s + s.n || (open[1] != '#' && open[1] != '.'))
		return 0;
	return (size_t)(s.s + s.n - open);
}

/* Drops the decorations lex_title_trim knows at the start of s; whether there were any. */
static bool title_trim_start(struct span *s)
{
	bool changed = false;
	size_t k;

	for (;;) {
		k = s->n > 0 && is_title_mark(s->s[0]) && s->s[0] != '(' ? 1 : anchor_len(*s);
		if (k == 0)
			break;
		*s = span_skip(*s, k);
		changed = true;
	}
	if (s->n >= 4 && span_starts(*s, "[[") && s->s[s->n - 1] == ']' && s->s[s->n - 2] == ']') {
		*s = (struct span){s->s + 2, s->n - 4};
		changed = true;
	}
	return changed;
}

struct span lex_title_trim(struct span s)
{
	bool changed = true;
	size_t k;

	while (changed) {
		changed = false;
		s = span_trim(s);
		if (title_trim_start(&s))
			changed = true;
		k = attributes_len(s) + trailing_anchor_len(s);
		if (k > 0)
			s.n -= k, changed = true;
		if ((k = list_number(s)) > 0)
			s = span_skip(s, k), changed = true;
		/* An en or em dash (U+2013, U+2014) ends or starts a title like a hyphen. */
		while (s.n >= 3 && (unsigned char)s.s[s.n - 3] == 0xe2 &&
		       (unsigned char)s.s[s.n - 2] == 0x80 &&
		       ((unsigned char)s.s[s.n - 1] == 0x93 || (unsigned char)s.s[s.n - 1] == 0x94))
			s.n -= 3, changed = true;
		while (s.n > 0 && is_title_sep(s.s[s.n - 1]))
			s.n--, changed = true;
		for (size_t i = 0; i < sizeof(title_tails) / sizeof(title_tails[0]); i++) {
			if (ends_with_word(s, title_tails[i].w, title_tails[i].n)) {
				s.n -= title_tails[i].n;
				changed = true;
			}
		}
	}
	return s;
}

/* Month number for an English month name or its abbreviation ("Oct", "Oct."), or 0. */
static int month_number(struct span w)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	static const char *const full[] = {"january",   "february", "march",    "april",
					   "may",       "june",     "july",     "august",
					   "september", "october",  "november", "december"};
	char head[3];

	if (w.n > 3 && w.s[w.n - 1] == '.')
		w.n--;
	if (w.n < 3)
		return 0;
	for (int i = 0; i < 3; i++)
		head[i] = lower(w.s[i]);
	for (int m = 0; m < 12; m++) {
		if (memcmp(head, months + 3 * (size_t)m, 3) == 0)
			return w.n <= strlen(full[m]) && strncasecmp(w.s, full[m], w.n) == 0 ? m + 1
											     : 0;
	}
	return 0;
}

static int days_in(int year, int month)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

static bool is_date_sep(char c)
{
	return is_space(c) || c == ',' || c == '-' || c == '/' || c == '*';
}

/* Splits s into at most max words at blanks, commas, '-', '/' and '*'; max + 1 means more. */
static size_t date_words(struct span s, struct span *w, size_t max)
{
	size_t n = 0, i = 0;

	while (i < s.n) {
		size_t start;

		while (i < s.n && is_date_sep(s.s[i]))
			i++;
		start = i;
		while (i < s.n && !is_date_sep(s.s[i]))
			i++;
		if (i > start) {
			if (n == max)
				return max + 1;
			w[n++] = (struct span){s.s + start, i - start};
		}
	}
	return n;
}

/* A number of at most four digits, allowing an ordinal suffix ("31st"); -1 when not one. */
static int date_number(struct span w, size_t *digits)
{
	static const char *const ordinals[] = {"st", "nd", "rd", "th"};
	int v = 0;
	size_t k = 0;

	for (; k < w.n && is_digit(w.s[k]); k++) {
		if (k == 4)
			return -1;
		v = v * 10 + (w.s[k] - '0');
	}
	*digits = k;
	if (k == 0)
		return -1;
	if (k == w.n)
		return v;
	for (size_t i = 0; i < 4; i++) {
		if (w.n - k == 2 && span_starts(span_skip(w, k), ordinals[i]))
			return v;
	}
	return -1;
}

/* Year, month and day of a date in any of the forms lex_date reads. */
static bool date_fields(struct span s, int *year, int *month, int *day)
{
	struct span w[3];
	int num[3];
	size_t digits[3], named = 3;

	*year = *month = *day = 0;
	if (date_words(s, w, 3) != 3)
		return false;
	for (size_t i = 0; i < 3; i++) {
		num[i] = date_number(w[i], &digits[i]);
		if (num[i] < 0) {
			if (named != 3 || (*month = month_number(w[i])) == 0)
				return false;
			named = i;
		}
	}
	if (named == 3) {
		/* All numbers: only the unambiguous ISO order year-month-day. */
		if (digits[0] != 4 || digits[1] > 2 || digits[2] > 2)
			return false;
		*year = num[0];
		*month = num[1];
		*day = num[2];
		return true;
	}
	/* A month name: the four-digit number is the year, the other the day. */
	for (size_t i = 0; i < 3; i++) {
		if (i == named)
			continue;
		if (digits[i] == 4 && *year == 0)
			*year = num[i];
		else if (digits[i] <= 2 && *day == 0)
			*day = num[i];
		else
			return false;
	}
	return true;
}

/* The same for "YYYY-MM-DD" with at most separators around it ("**2024-10-09**"), as a table
 * cell of most digests has it: read at once, as date_fields would read it. */
static bool iso_date_fields(struct span s, int *year, int *month, int *day)
{
	static const char digit_at[] = "dddd-dd-dd";

	while (s.n > 0 && is_date_sep(s.s[0]))
		s = span_skip(s, 1);
	while (s.n > 0 && is_date_sep(s.s[s.n - 1]))
		s.n--;
	if (s.n != 10)
		return false;
	for (size_t i = 0; i < 10; i++) {
		if (digit_at[i] == 'd' ? !is_digit(s.s[i]) : s.s[i] != '-')
			return false;
	}
	*year = (s.s[0] - '0') * 1000 + (s.s[1] - '0') * 100 + (s.s[2] - '0') * 10 + (s.s[3] - '0');
	*month = (s.s[5] - '0') * 10 + (s.s[6] - '0');
	*day = (s.s[8] - '0') * 10 + (s.s[9] - '0');
	return true;
}

bool lex_date(struct span s, char out[LEX_DATE_SIZE])
{
	int year, month, day;

	if (!iso_date_fields(s, &year, &month, &day) && !date_fields(s, &year, &month, &day))
		return false;
	if (year < 1900 || year > 2999 || month < 1 || month > 12 || day < 1 ||
	    day > days_in(year, month))
		return false;
	out[0] = (char)('0' + year / 1000);
	out[1] = (char)('0' + year / 100 % 10);
	out[2] = (char)('0' + year / 10 % 10);
	out[3] = (char)('0' + year % 10);
	out[4] = '-';
	out[5] = (char)('0' + month / 10);
	out[6] = (char)('0' + month % 10);
	out[7] = '-';
	out[8] = (char)('0' + day / 10);
	out[9] = (char)('0' + day % 10);
	out[10] = '\0';
	return true;
}

static bool is_special(char c)
{
	return (unsigned char)c < 0x20 || c == '\\' || c == '*';
}

#ifdef __SSE2__
/* The bytes of the 16 at s that lex_text may have to change, as a mask. */
static unsigned special_mask(const char *s)
{
	const __m128i bs = _mm_set1_epi8('\\'), star = _mm_set1_epi8('*');
	const __m128i ctl = _mm_set1_epi8(0x1f);
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
	__m128i hit = _mm_or_si128(_mm_cmpeq_epi8(x, bs), _mm_cmpeq_epi8(x, star));

	/* x <= 0x1f, unsigned: the minimum of x and 0x1f is x itself. */
	hit = _mm_or_si128(hit, _mm_cmpeq_epi8(_mm_min_epu8(x, ctl), x));
	return (unsigned)_mm_movemask_epi8(hit);
}
#endif

/* Offset of the first byte lex_text must change (a control byte, '\\' or '*'), or n. This is
 * the scan every byte of every field goes through, so it looks at 16 bytes at a time. */
static size_t first_special(const char *s, size_t n)
{
	size_t i = 0;

#ifdef __SSE2__
	for (; i + 16 <= n; i += 16) {
		unsigned mask = special_mask(s + i);

		if (mask != 0)
			return i + (size_t)__builtin_ctz(mask);
	}
#endif
	/* Short strings (author names) and tails: eight bytes at a time. */
	for (; i + 8 <= n; i += 8) {
		uint64_t x;

		memcpy(&x, s + i, 8);
		if (HAS_LESS(x, 0x20) | HAS_ZERO(x ^ (ONES * '\\')) | HAS_ZERO(x ^ (ONES * '*')))
			break;
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == '\\' || c == '*')
			return i;
	}
	return n;
}

/* Whether the control byte at s[i] (a line break) stands between two bytes that are neither
 * blank nor control, where cleaning makes it one space and changes nothing else. Inlined into
 * the AVX2 scan too: a call from there would leave the processor in its wide state. */
__attribute__((always_inline)) static inline bool lone_break(const char *s, size_t n, size_t i)
{
	return (unsigned char)s[i] < 0x20 && i > 0 && s[i - 1] != ' ' && i + 1 < n &&
	       s[i + 1] != ' ' && (unsigned char)s[i + 1] >= 0x20;
}

/* Makes a space of each lone break among the special bytes that mask marks (bit k for s[i + k]);
 * returns the offset of the first other one, or n. */
__attribute__((always_inline)) static inline size_t join_mask(char *s, size_t n, size_t i,
							      uint64_t mask)
{
	for (; mask != 0; mask &= mask - 1) {
		size_t at = i + (size_t)__builtin_ctzll(mask);

		if (!lone_break(s, n, at))
			return at;
		s[at] = ' ';
	}
	return n;
}

#ifdef __SSE2__
/* join_to_special 64 bytes a round from *i, while 64 are left: the offset of the first special
 * byte that is not a lone break, or n with *i where the rounds stopped. */
static size_t join_rounds_sse2(char *s, size_t n, size_t *i)
{
	for (; *i + 64 <= n; *i += 64) {
		uint64_t mask = (uint64_t)special_mask(s + *i) |
				(uint64_t)special_mask(s + *i + 16) << 16 |
				(uint64_t)special_mask(s + *i + 32) << 32 |
				(uint64_t)special_mask(s + *i + 48) << 48;
		size_t at = join_mask(s, n, *i, mask);

		if (at < n)
			return at;
	}
	return n;
}
#endif

#ifdef LEX_AVX2
/* The special bytes of the 32 at s, as a mask. */
__attribute__((target("avx2"))) static uint64_t special_mask32(const char *s)
{
	const __m256i bs = _mm256_set1_epi8('\\'), star = _mm256_set1_epi8('*');
	const __m256i ctl = _mm256_set1_epi8(0x1f);
	__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)s);
	__m256i hit = _mm256_or_si256(_mm256_cmpeq_epi8(x, bs), _mm256_cmpeq_epi8(x, star));

	hit = _mm256_or_si256(hit, _mm256_cmpeq_epi8(_mm256_min_epu8(x, ctl), x));
	return (uint32_t)_mm256_movemask_epi8(hit);
}

/* join_rounds_sse2 with 32-byte registers. */
__attribute__((target("avx2"))) static size_t join_rounds_avx2(char *s, size_t n, size_t *i)
{
	for (; *i + 64 <= n; *i += 64) {
		uint64_t mask = special_mask32(s + *i) | special_mask32(s + *i + 32) << 32;
		size_t at = join_mask(s, n, *i, mask);

		if (at < n)
			return at;
	}
	return n;
}
#endif

/* Like first_special from s[i] on, but a line break between two words, as a hard-wrapped
 * paragraph has dozens of, is made a space where it lies and the scan goes on: what the slow
 * path would write there, without stopping at every line. */
static size_t join_to_special(char *s, size_t n, size_t i)
{
#ifdef __SSE2__
	size_t at;

#ifdef LEX_AVX2
	at = have_avx2() ? join_rounds_avx2(s, n, &i) : join_rounds_sse2(s, n, &i);
#else
	at = join_rounds_sse2(s, n, &i);
#endif
	if (at < n)
		return at;
	for (; i + 16 <= n; i += 16) {
		at = join_mask(s, n, i, special_mask(s + i));
		if (at < n)
			return at;
	}
#endif
	for (; i < n; i++) {
		if (!is_special(s[i]))
			continue;
		if (!lone_break(s, n, i))
			return i;
		s[i] = ' ';
	}
	return n;
}

static bool is_punct(char c)
{
	return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
	       (c >= '{' && c <= '~');
}

/* The slow half of lex_text, from the first special byte at i on; returns the new length. */
static size_t clean_from(char *s, size_t n, size_t i)
{
	size_t o = i;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t run;

		if (c < 0x20) {
			/* A line break or control byte and the blanks around it become one space.
			 */
			while (o > 0 && s[o - 1] == ' ')
				o--;
			/* cppcheck-suppress knownConditionTrueFalse ; true for the first i only */
			while (i < n && (s[i] == ' ' || (unsigned char)s[i] < 0x20))
				i++;
			s[o++] = ' ';
			continue;
		}
		if (c == '\\' && i + 1 < n && is_punct(s[i + 1])) {
			s[o++] = s[i + 1];
			i += 2;
			continue;
		}
		if (c == '*' && i + 1 < n && s[i + 1] == '*') {
			i += 2;
			continue;
		}
		/* Line breaks are made spaces ahead only where the text has not moved: behind the
		 * result, the text must stay as it was, for the fallback reads it. */
		run = o == i ? join_to_special(s, n, i + 1) - i
			     : 1 + first_special(s + i + 1, n - i - 1);
		if (o != i)
			memmove(s + o, s + i, run);
		o += run;
		i += run;
	}
	return o;
}

char *lex_text(struct span sp)
{
	size_t i, n;
	char *s;

	sp = span_trim(sp);
	s = sp.s;
	n = sp.n;
	i = join_to_special(s, n, 0);
	if (i < n) {
		/* Undoing markers can leave blanks at either end ("** Title **"). */
		n = clean_from(s, n, i);
		while (n > 0 && s[n - 1] == ' ')
			n--;
		while (n > 0 && s[0] == ' ') {
			s++;
			n--;
		}
	}
	s[n] = '\0';
	return s;
}

/* Whether s ends with an "et al." marker; if so, shortens it to what precedes. */
static bool cut_et_al(struct span *s)
{
	static const struct {
		const char *s;
		size_t n;
	} marks[] = {
		{"et al.", 6}, {"et.al.", 6},      {"et. al.", 7}, {"et al", 5},
		{"et.al", 5},  {"and others", 10}, {"...", 3},     {"\xe2\x80\xa6", 3},
	};
	char last;

	if (s->n == 0)
		return false;
	/* Every marker ends in one of these: most lists end in none of them. */
	last = lower(s->s[s->n - 1]);
	if (last != '.' && last != 'l' && last != 's' && last != '\xa6')
		return false;
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		if (s->n >= marks[i].n &&
		    span_starts(span_skip(*s, s->n - marks[i].n), marks[i].s)) {
			s->n -= marks[i].n;
			*s = span_trim(*s);
			while (s->n > 0 && s->s[s->n - 1] == ',')
				s->n--;
			return true;
		}
	}
	return false;
}

/* Length of the author separator at s[i] (',', ';', " and ", " & "), or 0. */
static size_t author_sep(const char *s, size_t n, size_t i)
{
	switch (s[i]) {
	case ',':
	case ';':
		return 1;
	case ' ':
		if (i + 5 <= n && memcmp(s + i, " and ", 5) == 0)
			return 5;
		if (i + 3 <= n && memcmp(s + i, " & ", 3) == 0)
			return 3;
		return 0;
	default:
		return 0;
	}
}

/* The first offset at or after i where an author separator may start: a ',' or ';', or a blank
 * before "a" or "&"; n when there is none. Names are mostly letters and blanks, so this looks
 * at 16 bytes at a time. */
static size_t next_sep(const char *s, size_t n, size_t i)
{
#ifdef __SSE2__
	const __m128i comma = _mm_set1_epi8(','), semi = _mm_set1_epi8(';');
	const __m128i blank = _mm_set1_epi8(' '), a = _mm_set1_epi8('a'), amp = _mm_set1_epi8('&');

	for (; i + 17 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i y = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 1));
		__m128i hit = _mm_or_si128(_mm_cmpeq_epi8(x, comma), _mm_cmpeq_epi8(x, semi));
		unsigned mask;

		hit = _mm_or_si128(hit, _mm_and_si128(_mm_cmpeq_epi8(x, blank),
						      _mm_or_si128(_mm_cmpeq_epi8(y, a),
								   _mm_cmpeq_epi8(y, amp))));
		mask = (unsigned)_mm_movemask_epi8(hit);
		if (mask != 0)
			return i + (size_t)__builtin_ctz(mask);
	}
#endif
	for (; i < n; i++) {
		if (s[i] == ',' || s[i] == ';' ||
		    (s[i] == ' ' && i + 1 < n && (s[i + 1] == 'a' || s[i + 1] == '&')))
			return i;
	}
	return n;
}

/* Names gathered before the list is copied into the arena; longer lists grow on the heap. */
#define AUTHORS_ON_STACK 64

const char **lex_authors(struct arena *a, struct span s, size_t *n, bool *truncated)
{
	const char *stack[AUTHORS_ON_STACK], **names = stack, **out;
	size_t count = 0, cap = AUTHORS_ON_STACK, start = 0;
	bool plain;

	s = span_trim(s);
	*truncated = cut_et_al(&s);
	/* One look at the whole list: names without markup need only trimming. */
	plain = first_special(s.s, s.n) == s.n;
	for (size_t i = next_sep(s.s, s.n, 0);; i = next_sep(s.s, s.n, i + 1)) {
		/* The end of the list ends its last name. */
		size_t sep = i < s.n ? author_sep(s.s, s.n, i) : 1;
		struct span name;

		if (sep == 0)
			continue;
		name = span_trim((struct span){s.s + start, i - start});
		if (name.n > 0) {
			if (count == cap) {
				cap *= 2;
				names = names == stack
						? memcpy(xreallocarray(NULL, cap, sizeof(*names)),
							 stack, sizeof(stack))
						: xreallocarray(names, cap, sizeof(*names));
			}
			if (plain)
				name.s[name.n] = '\0';
			names[count++] = plain ? name.s : lex_text(name);
		}
		if (i >= s.n)
			break;
		start = i + sep;
		i += sep - 1;
	}
	*n = count;
	out = NULL;
	if (count > 0) {
		out = arena_alloc(a, count * sizeof(*out));
		memcpy(out, names, count * sizeof(*out));
	}
	if (names != stack)
		free(names);
	return out;
}
