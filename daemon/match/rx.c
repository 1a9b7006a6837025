/*
 * match/rx.c — PCRE2 behind the regular-expression terms, and the reading of a pattern for the
 * literal text all its matches share. That reading is deliberately timid: whatever it does not
 * fully understand (alternation at the top level, option settings, named escapes) gives no literal,
 * and the regex then simply runs on every paper its rule is evaluated for.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <dlfcn.h>
#include <errno.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "rx.h"
#include "xmalloc.h"

/* PCRE2 is loaded with dlopen() when a rule first has a regular expression: mapped at start, it
 * cost every daemon 0.14 MiB, and most configurations have none. The calls go through pcre,
 * each function of the type pcre2.h declares; the header's macros give the names their 8-bit
 * ending, in the declarations, the calls and the names looked up alike. */
#define PCRE2_LIBRARY "libpcre2-8.so.0"

#define PCRE2_FUNCTIONS(X)                                                                         \
	X(pcre2_code_free)                                                                         \
	X(pcre2_compile)                                                                           \
	X(pcre2_config)                                                                            \
	X(pcre2_get_error_message)                                                                 \
	X(pcre2_get_ovector_pointer)                                                               \
	X(pcre2_jit_compile)                                                                       \
	X(pcre2_match)                                                                             \
	X(pcre2_match_context_create)                                                              \
	X(pcre2_match_context_free)                                                                \
	X(pcre2_match_data_create)                                                                 \
	X(pcre2_match_data_free)                                                                   \
	X(pcre2_pattern_info)                                                                      \
	X(pcre2_set_match_limit)

static struct {
#define PCRE2_FIELD(f) __typeof__(f) *(f);
	PCRE2_FUNCTIONS(PCRE2_FIELD)
#undef PCRE2_FIELD
} pcre;

/* The name a function has in the library: its macro expanded, then made a string. */
#define PCRE2_NAME(f)  PCRE2_QUOTE(f)
#define PCRE2_QUOTE(f) #f

/* Loads PCRE2 and finds every function called, once; it stays loaded. 0, or -1 with why. */
static int pcre_load(char *why, size_t why_size)
{
	static void *handle;
	void *fn;

	if (handle != NULL)
		return 0;
	handle = dlopen(PCRE2_LIBRARY, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL) {
		snprintf(why, why_size, "cannot load PCRE2, which regular expressions need: %s",
			 dlerror());
		return -1;
	}
	/* A function's address as dlsym() returns it; POSIX makes the conversion exact. */
#define PCRE2_FIND(f)                                                                              \
	fn = dlsym(handle, PCRE2_NAME(f));                                                         \
	if (fn == NULL)                                                                            \
		goto missing;                                                                      \
	pcre.f = (__typeof__(pcre.f))fn;
	PCRE2_FUNCTIONS(PCRE2_FIND)
#undef PCRE2_FIND
	return 0;
missing:
	snprintf(why, why_size, "%s has no function paperwatch calls: %s", PCRE2_LIBRARY,
		 dlerror());
	dlclose(handle);
	handle = NULL;
	return -1;
}

/* Backtracking steps one match may take: a pathological pattern costs at most some
 * milliseconds per paper instead of hanging the daemon. */
#define RX_MATCH_LIMIT 1000000u

/* The memory the JIT probe asks for: one page. */
#define JIT_PROBE_SIZE 4096

/* What the query language promises of every pattern. */
#define RX_OPTIONS                                                                                 \
	(PCRE2_CASELESS | PCRE2_UTF | PCRE2_UCP | PCRE2_NEVER_BACKSLASH_C | PCRE2_MATCH_INVALID_UTF)

struct rx {
	pcre2_code *code;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	char *literal; /* NULL when none */
	size_t literal_len;
};

/* Where a run of literal characters is being read in the pattern. */
struct lit_scan {
	size_t run_start, run_len;   /* the current run */
	size_t best_start, best_len; /* the longest finished run */
};

/* Characters a literal may hold: ASCII letters (caseless), digits, space and hyphen. */
static bool literal_char(char c)
{
	char l = (char)(c | 0x20);

	return (l >= 'a' && l <= 'z') || (c >= '0' && c <= '9') || c == ' ' || c == '-';
}

static void run_end(struct lit_scan *ls)
{
	if (ls->run_len > ls->best_len) {
		ls->best_start = ls->run_start;
		ls->best_len = ls->run_len;
	}
	ls->run_len = 0;
}

/* Index of the ']' that closes the class opened at p[i], or n. */
static size_t class_end(const char *p, size_t n, size_t i)
{
	size_t j = i + 1;

	if (j < n && p[j] == '^')
		j++;
	if (j < n && p[j] == ']')
		j++;
	while (j < n && p[j] != ']') {
		if (p[j] == '\\') {
			j += 2;
		} else if (p[j] == '[' && j + 1 < n && p[j + 1] == ':') {
			const char *close = memmem(p + j + 2, n - j - 2, ":]", 2);

			j = close ? (size_t)(close - p) + 2 : n;
		} else {
			j++;
		}
	}
	return j < n ? j : n;
}

/* Whether the escape "\c" stands for one character class or assertion and nothing else; other
 * escapes (back references, names, code points, \Q) make the scan give up. */
static bool simple_escape(char c)
{
	bool letter = (c | 0x20) >= 'a' && (c | 0x20) <= 'z', digit = c >= '0' && c <= '9';

	if (c == '\0')
		return false;
	return letter ? strchr("bBdDsSwWhHvVRXAzZGntrfea", c) != NULL : !digit;
}

/* Index of the '}' closing the repeat count ("{2}", "{2,}", "{2,5}") opened at p[i], or 0 when
 * PCRE2 reads that '{' as a literal brace. */
static size_t repeat_end(const char *p, size_t n, size_t i)
{
	size_t j = i + 1;

	while (j < n && ((p[j] >= '0' && p[j] <= '9') || p[j] == ',' || p[j] == ' '))
		j++;
	return j < n && p[j] == '}' && j > i + 1 ? j : 0;
}

/* The longest run of literal characters at the top level of the pattern, each one required by
 * every match; false when the pattern is beyond what this reading understands. A small state
 * machine over the pattern's characters, the state being the run and the group depth. */
static bool scan_literal(const char *p, size_t n, struct lit_scan *ls)
{
	int depth = 0;

	for (size_t i = 0; i < n; i++) {
		char c = p[i];

		if (c == '\\') {
			if (i + 1 >= n || !simple_escape(p[i + 1]))
				return false;
			run_end(ls);
			i++;
		} else if (c == '[') {
			run_end(ls);
			i = class_end(p, n, i);
			if (i == n)
				return false;
		} else if (c == '(') {
			/* Verbs and option settings can change what the rest means. */
			if (i + 1 < n && p[i + 1] == '*')
				return false;
			if (i + 2 < n && p[i + 1] == '?' &&
			    (((p[i + 2] | 0x20) >= 'a' && (p[i + 2] | 0x20) <= 'z') ||
			     p[i + 2] == '^' || p[i + 2] == '-'))
				return false;
			run_end(ls);
			depth++;
		} else if (c == ')') {
			run_end(ls);
			if (--depth < 0)
				return false;
		} else if (c == '|' && depth == 0) {
			return false;
		} else if (c == '?' || c == '*' || c == '+' || c == '{') {
			/* The character before is optional or repeated: not part of the run. */
			if (ls->run_len > 0)
				ls->run_len--;
			run_end(ls);
			if (c == '{' && repeat_end(p, n, i) != 0)
				i = repeat_end(p, n, i);
		} else if (depth == 0 && literal_char(c)) {
			if (ls->run_len == 0)
				ls->run_start = i;
			ls->run_len++;
		} else {
			run_end(ls);
		}
	}
	run_end(ls);
	return true;
}

/* Sets r->literal from the pattern, when it has one long enough. */
static void find_literal(struct rx *r, const char *p, size_t n)
{
	struct lit_scan ls = {0};

	if (!scan_literal(p, n, &ls) || ls.best_len < RX_LITERAL_MIN)
		return;
	r->literal = xstrndup(p + ls.best_start, ls.best_len);
	r->literal_len = ls.best_len;
	for (size_t i = 0; i < ls.best_len; i++) {
		if (r->literal[i] >= 'A' && r->literal[i] <= 'Z')
			r->literal[i] = (char)(r->literal[i] | 0x20);
	}
}

/* Offset of an unescaped \K in the pattern, or n. */
static size_t find_bsk(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] == '\\') {
			if (p[i + 1] == 'K')
				return i;
			i++;
		}
	}
	return n;
}

/* Fills the refusal for a pattern that compiled but cannot be used. */
static struct rx *refuse(struct rx *r, size_t *at, size_t where, char *msg, size_t msg_size,
			 const char *why)
{
	*at = where;
	snprintf(msg, msg_size, "%s", why);
	rx_free(r);
	return NULL;
}

struct rx *rx_compile(const char *pattern, size_t len, size_t *at, char *msg, size_t msg_size)
{
	struct rx *r;
	PCRE2_SIZE off = 0;
	uint32_t min_len = 0;
	int code;

	if (pcre_load(msg, msg_size) != 0) {
		*at = 0;
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->code = pcre.pcre2_compile((PCRE2_SPTR)pattern, len, RX_OPTIONS, &code, &off, NULL);
	if (r->code == NULL) {
		*at = off;
		pcre.pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, msg_size);
		rx_free(r);
		return NULL;
	}
	if (find_bsk(pattern, len) < len)
		return refuse(r, at, find_bsk(pattern, len), msg, msg_size,
			      "\\K is not supported: a match must cover the text it highlights");
	if (pcre.pcre2_pattern_info(r->code, PCRE2_INFO_MINLENGTH, &min_len) != 0 || min_len == 0)
		return refuse(r, at, 0, msg, msg_size,
			      "it can match empty text, so it would match every paper");
#ifndef PW_RX_NO_JIT
	/* Without a JIT (some platforms, the valgrind build) PCRE2 interprets the pattern: slower,
	 * still right. */
	(void)pcre.pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE);
#endif
	r->md = pcre.pcre2_match_data_create(1, NULL);
	r->mctx = pcre.pcre2_match_context_create(NULL);
	pcre.pcre2_set_match_limit(r->mctx, RX_MATCH_LIMIT);
	find_literal(r, pattern, len);
	return r;
}

/* Compiles a trial pattern to machine code: whether PCRE2 has a JIT at all is its build's
 * choice, and whether it may run one is the process's (its memory must be writable, then
 * executable, which MemoryDenyWriteExecute=yes refuses; Debian's PCRE2 has no allocator that
 * would get by without). */
int rx_jit_probe(char *why, size_t why_size)
{
#ifdef PW_RX_NO_JIT
	snprintf(why, why_size, "this build leaves it out, for valgrind");
	return -1;
#else
	uint32_t jit = 0;
	void *page;

	if (pcre_load(why, why_size) != 0)
		return -1;
	if (pcre.pcre2_config(PCRE2_CONFIG_JIT, &jit) < 0 || jit == 0) {
		snprintf(why, why_size, "this PCRE2 was built without it");
		return -1;
	}
	/* What PCRE2's allocator asks for: a page both writable and executable. Asking for one
	 * costs nothing, where a trial compilation would bring the JIT compiler's half a MiB in
	 * whether or not any rule has a regular expression. */
	page = mmap(NULL, JIT_PROBE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		snprintf(why, why_size,
			 "memory may not be both writable and executable (%s), as systemd's "
			 "MemoryDenyWriteExecute=yes or a security policy rules",
			 strerror(errno));
		return -1;
	}
	munmap(page, JIT_PROBE_SIZE);
	return 0;
#endif
}

void rx_free(struct rx *r)
{
	if (r == NULL)
		return;
	/* r exists: PCRE2 was loaded to compile it. */
	pcre.pcre2_code_free(r->code);
	pcre.pcre2_match_data_free(r->md);
	pcre.pcre2_match_context_free(r->mctx);
	free(r->literal);
	free(r);
}

const char *rx_literal(const struct rx *r, size_t *len)
{
	*len = r->literal_len;
	return r->literal;
}

bool rx_find(struct rx *r, const char *s, size_t n, size_t from, size_t *start, size_t *end)
{
	while (from < n) {
		int rc = pcre.pcre2_match(r->code, (PCRE2_SPTR)s, n, from, 0, r->md, r->mctx);
		PCRE2_SIZE *ov;

		/* rc 0 means a match whose groups did not fit: only the whole match is needed. */
		if (rc < 0)
			return false;
		ov = pcre.pcre2_get_ovector_pointer(r->md);
		if (ov[1] > ov[0]) {
			*start = ov[0];
			*end = ov[1];
			return true;
		}
		/* An empty match (a lookaround-only path): step past its character. */
		from = ov[1] + 1;
		while (from < n && ((unsigned char)s[from] & 0xc0) == 0x80)
			from++;
	}
	return false;
}
