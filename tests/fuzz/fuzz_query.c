/*
 * fuzz_query.c — libFuzzer target for interest rules. Each line of the input is a query: it must
 * be accepted or refused without a crash, refused with a message and a column inside the query,
 * and matcher_check must agree with matcher_add. The accepted ones are compiled together and
 * matched against a fixed paper and against one whose abstract is the input itself; every hit
 * must be a non-empty range of whole characters of its field, naming a term that exists, and
 * explaining must not change which rules match.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "match/match.h"
#include "utf8.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *authors[] = {"Sergey Levine", "Jürgen Müller", "王小明",
				"Ｔａｒｏ Ｙａｍａｄａ"};

static const struct paper fixed = {
	.id = "2410.07177",
	.title = "Multi-Agent LLMs: “Tool-Use” at ＳＣＡＬＥ — 大语言模型的检索增强生成 (RAG)",
	.abstract = "Agents use tools; classes of diffusion models and policies. Straße, café, "
		    "ﬁne-tuning, ½ of GPUs, 한국어 모델, カタカナ. Tran\xc5\xbf"
		    "former \xe2\x84\xaanowledge.",
	.authors = authors,
	.n_authors = 4,
};

struct check {
	const struct matcher *m;
	const struct paper *p;
	size_t calls;
	unsigned last_rule;
};

static const char *field_of(const struct paper *p, const struct match_hit *h)
{
	switch (h->field) {
	case MATCH_TITLE:
		return p->title;
	case MATCH_AUTHORS:
		return h->author < p->n_authors ? p->authors[h->author] : NULL;
	case MATCH_ABSTRACT:
		return p->abstract;
	case MATCH_ID:
		return p->id;
	}
	return NULL;
}

static bool char_start(const char *s, size_t i)
{
	return ((unsigned char)s[i] & 0xc0) != 0x80;
}

static void check_hits(void *ctx, unsigned rule, const struct match_hit *hits, size_t n)
{
	struct check *c = ctx;

	if (c->calls > 0 && rule <= c->last_rule)
		abort();
	c->calls++;
	c->last_rule = rule;
	for (size_t i = 0; i < n; i++) {
		const struct match_hit *h = &hits[i];
		const char *s = field_of(c->p, h);
		size_t len;

		if (s == NULL || matcher_term_text(c->m, rule, h->term) == NULL)
			abort();
		len = strlen(s);
		if (h->start >= h->end || h->end > len)
			abort();
		/* Characters have edges only in valid UTF-8; the input abstract may be not. */
		if (utf8_valid_prefix(s, len) == len &&
		    (!char_start(s, h->start) || (h->end < len && !char_start(s, h->end))))
			abort();
	}
}

/* Matches p with and without explanations; both must give the same rules. */
static void match_both(struct matcher *m, const struct paper *p)
{
	struct check with = {m, p, 0, 0}, without = {m, p, 0, 0};
	size_t a = matcher_match(m, p, true, check_hits, &with);
	size_t b = matcher_match(m, p, false, check_hits, &without);

	if (a != b || a != with.calls || b != without.calls)
		abort();
}

/* Adds one query; a refusal must say something about a column inside the query. */
static void add_line(struct matcher *m, const char *q)
{
	struct query_error qe = {0}, qc = {0};
	size_t chars = 0;
	int rc = matcher_add(m, q, &qe);

	if ((rc < 0) != (matcher_check(q, &qc) < 0))
		abort();
	if (rc >= 0)
		return;
	for (const char *s = q; *s; s++)
		chars += ((unsigned char)*s & 0xc0) != 0x80;
	if (qe.column < 1 || qe.column > chars + 1 || qe.msg[0] == '\0' || qe.column != qc.column ||
	    strcmp(qe.msg, qc.msg) != 0 ||
	    utf8_valid_prefix(qe.msg, strlen(qe.msg)) != strlen(qe.msg))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	struct matcher *m = matcher_new();
	struct paper own = fixed;
	char *line = text;

	/* Bytes after a NUL are not part of any query. */
	for (;;) {
		char *nl = strchr(line, '\n');

		if (nl != NULL)
			*nl = '\0';
		add_line(m, line);
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	matcher_compile(m);
	match_both(m, &fixed);
	memcpy(text, data, size);
	text[strnlen((const char *)data, size)] = '\0';
	own.abstract = text;
	own.title = text;
	match_both(m, &own);
	matcher_free(m);
	free(text);
	return 0;
}
