/*
 * test_match_diff.c — the compiled matcher against a deliberately naive one written here: every
 * field cut into words a code point at a time (one utf8proc_map call, and one malloc, per
 * character), every term looked for by walking all the words, the query tree evaluated directly,
 * no dictionary. Thousands of random queries built from the sample digests' own words, phrases,
 * authors and ids must give the same rules, and the same hits byte for byte, on every paper;
 * so must sets of a few such queries, where the matcher's sieve decides which papers are cut.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "unit.h"

#include <pcre2.h>
#include <utf8proc.h>

#include "digest.h"
#include "log.h"
#include "match/match.h"
#include "match/query.h"
#include "match/text.h"
#include "parse/parse.h"
#include "xmalloc.h"

#define N_QUERIES 2500

static const char *const digests[] = {
	"digests/000_6b369aa832a2006d.txt", "digests/001_a7bca62cced45441.txt",
	"digests/002_f9a2c3ce83a5c549.txt", "digests/003_bf227820df90f27b.txt",
	"digests/004_602c7d0816f9df68.txt",
};

/* Papers the samples lack: scripts without spaces, width and case forms, ligatures. */
static const char *cjk_authors[] = {"王小明", "Jürgen Müller", "Ｔａｒｏ　Ｙａｍａｄａ", NULL};
static const char *latin_authors[] = {"Zoë Ğüneş", "Sercan Ö. Arık", "Sergey Levine", NULL};
static const struct paper extra[] = {
	{.id = "2501.00001",
	 .title = "大语言模型（LLM）的检索增强生成：RAG評価とＬＬＭｓ",
	 .abstract = "本文提出ＬＬＭ推理加速方法。한국어 모델 평가와 검색증강생성. 検索拡張生成の"
		     "カタカナ評価、ひらがなも。GPT-4o模型 and multi-agent 系统",
	 .authors = cjk_authors,
	 .n_authors = 3},
	{.id = "hep-th/9901001",
	 .title = "Ligatures: ﬁne-tuning ﬂows; Straße vs STRASSE; café CAFÉ Tool‑Use",
	 .abstract = "½ of ＧＰＵｓ… naïve Æsir; classes, boxes, matches, heroes; RAG vs storage "
		     "leverage RAGged rages. Sergey Levine and Sergey Ivanov; x² and ⅓",
	 .authors = latin_authors,
	 .n_authors = 3},
};

/* ---- The naive side ---- */

struct nword {
	char *s;
	size_t len, start, end;
	bool nospace;
};

struct nseg {
	enum match_field field;
	unsigned author;
	const char *s;
	struct nword *w;
	size_t n;
};

struct npaper {
	const struct paper *p;
	struct nseg segs[64];
	size_t n_segs;
};

static void nword_push(struct nword **w, size_t *n, const char *s, size_t len, size_t start,
		       size_t end, bool nospace)
{
	*w = xreallocarray(*w, *n + 1, sizeof(**w));
	(*w)[(*n)++] = (struct nword){xstrndup(s, len), len, start, end, nospace};
}

/* Cuts s into words a code point at a time. */
static void naive_cut(const char *s, size_t n, struct nword **w, size_t *count)
{
	char word[4096];
	size_t wl = 0, ws = 0, we = 0;
	bool in = false;

	*w = NULL;
	*count = 0;
	for (size_t i = 0; i < n;) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t len = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
							(utf8proc_ssize_t)(n - i), &cp);
		utf8proc_uint8_t *f = NULL;
		utf8proc_ssize_t fl;

		if (len < 0) {
			if (in)
				nword_push(w, count, word, wl, ws, we, false);
			in = false;
			i++;
			continue;
		}
		fl = utf8proc_map((const utf8proc_uint8_t *)s + i, len, &f,
				  UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
					  UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);
		for (utf8proc_ssize_t k = 0; k < fl;) {
			utf8proc_int32_t c;
			utf8proc_ssize_t cl = utf8proc_iterate(f + k, fl - k, &c);
			int cat = utf8proc_category(c);
			bool alnum = (cat >= 1 && cat <= 5) || (cat >= 9 && cat <= 11);

			if (alnum && text_is_nospace(c)) {
				if (in)
					nword_push(w, count, word, wl, ws, we, false);
				in = false;
				nword_push(w, count, (const char *)f + k, (size_t)cl, i,
					   i + (size_t)len, true);
			} else if (alnum || (in && cat >= 6 && cat <= 8)) {
				if (!in) {
					in = true;
					wl = 0;
					ws = i;
				}
				memcpy(word + wl, f + k, (size_t)cl);
				wl += (size_t)cl;
				we = i + (size_t)len;
			} else if (!(cat >= 6 && cat <= 8)) {
				if (in)
					nword_push(w, count, word, wl, ws, we, false);
				in = false;
			}
			k += cl;
		}
		free(f);
		i += (size_t)len;
	}
	if (in)
		nword_push(w, count, word, wl, ws, we, false);
}

static void npaper_seg(struct npaper *np, enum match_field f, unsigned author, const char *s)
{
	struct nseg *g = &np->segs[np->n_segs++];

	assert_true(np->n_segs <= 64);
	*g = (struct nseg){f, author, s, NULL, 0};
	if (f != MATCH_ID) {
		naive_cut(s, strlen(s), &g->w, &g->n);
		return;
	}
	nword_push(&g->w, &g->n, s, strlen(s), 0, strlen(s), false);
	for (size_t i = 0; i < g->n && i < 1; i++) {
		for (size_t k = 0; k < g->w[i].len; k++)
			g->w[i].s[k] = (char)(g->w[i].s[k] >= 'A' && g->w[i].s[k] <= 'Z'
						      ? g->w[i].s[k] | 0x20
						      : g->w[i].s[k]);
	}
}

static void npaper_init(struct npaper *np, const struct paper *p)
{
	np->p = p;
	np->n_segs = 0;
	npaper_seg(np, MATCH_TITLE, 0, p->title);
	for (size_t i = 0; i < p->n_authors && np->n_segs < 60; i++)
		npaper_seg(np, MATCH_AUTHORS, (unsigned)i, p->authors[i]);
	if (p->abstract)
		npaper_seg(np, MATCH_ABSTRACT, 0, p->abstract);
	if (p->id)
		npaper_seg(np, MATCH_ID, 0, p->id);
}

static void npaper_free(struct npaper *np)
{
	for (size_t i = 0; i < np->n_segs; i++) {
		for (size_t k = 0; k < np->segs[i].n; k++)
			free(np->segs[i].w[k].s);
		free(np->segs[i].w);
	}
}

/* A rule as the naive side sees it: the parsed tree, each term's words cut from its text again,
 * each regex compiled again. */
struct nrule {
	struct query q;
	struct nword **words; /* per term */
	size_t *n_words;
	pcre2_code **re;
};

static void nrule_init(struct nrule *r, const char *text)
{
	struct query_error qe;

	assert_int_equal(query_parse(&r->q, text, &qe), 0);
	r->words = xcalloc(r->q.n_terms, sizeof(*r->words));
	r->n_words = xcalloc(r->q.n_terms, sizeof(*r->n_words));
	r->re = xcalloc(r->q.n_terms, sizeof(*r->re));
	for (size_t i = 0; i < r->q.n_terms; i++) {
		const struct query_term *t = &r->q.terms[i];
		const char *s = t->text;
		size_t n = strlen(s);
		int code;
		PCRE2_SIZE off;

		if (t->kind == QUERY_REGEX) {
			r->re[i] = pcre2_compile((PCRE2_SPTR)s + 1, n - 2,
						 PCRE2_CASELESS | PCRE2_UTF | PCRE2_UCP, &code,
						 &off, NULL);
			assert_non_null(r->re[i]);
			continue;
		}
		if (s[0] == '"') {
			s++;
			n -= 2;
		}
		if (n > 0 && s[n - 1] == '*')
			n--;
		naive_cut(s, n, &r->words[i], &r->n_words[i]);
	}
}

static void nrule_free(struct nrule *r)
{
	for (size_t i = 0; i < r->q.n_terms; i++) {
		for (size_t k = 0; k < r->n_words[i]; k++)
			free(r->words[i][k].s);
		free(r->words[i]);
		pcre2_code_free(r->re[i]);
	}
	free(r->words);
	free(r->n_words);
	free(r->re);
	query_free(&r->q);
}

/* The word rule, written out again: the word itself, its plural in -s, its plural in -es after
 * s, x, z, o, ch and sh; with prefix, any word that starts with it. */
static bool naive_word(const struct nword *q, bool prefix, const struct nword *t)
{
	const char *e = q->s + q->len;

	if (t->len < q->len || memcmp(t->s, q->s, q->len) != 0)
		return false;
	if (prefix || t->len == q->len)
		return true;
	if (q->nospace)
		return false;
	if (t->len == q->len + 1)
		return t->s[q->len] == 's';
	if (t->len != q->len + 2 || memcmp(t->s + q->len, "es", 2) != 0)
		return false;
	return strchr("sxzo", e[-1]) != NULL ||
	       (q->len >= 2 && e[-1] == 'h' && (e[-2] == 'c' || e[-2] == 's'));
}

struct nhits {
	struct match_hit h[4096];
	size_t n;
};

/* Every hit of term k of rule r in the paper, appended to out; returns how many. */
static size_t naive_term(const struct nrule *r, size_t k, const struct npaper *np,
			 struct nhits *out)
{
	const struct query_term *t = &r->q.terms[k];
	size_t found = 0;

	for (size_t g = 0; g < np->n_segs; g++) {
		const struct nseg *sg = &np->segs[g];

		if (!(t->fields & QUERY_FIELD(sg->field)))
			continue;
		if (t->kind == QUERY_REGEX) {
			pcre2_match_data *md = pcre2_match_data_create(1, NULL);
			size_t from = 0, len = strlen(sg->s);

			while (from < len && pcre2_match(r->re[k], (PCRE2_SPTR)sg->s, len, from, 0,
							 md, NULL) >= 0) {
				PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);

				out->h[out->n++] = (struct match_hit){(unsigned)k, sg->field,
								      sg->author, ov[0], ov[1]};
				found++;
				from = ov[1];
			}
			pcre2_match_data_free(md);
			continue;
		}
		if (t->kind == QUERY_ID) {
			const struct nword *w = &sg->w[0];

			if (w->len >= t->id_len && memcmp(w->s, t->id, t->id_len) == 0 &&
			    (t->prefix || w->len == t->id_len)) {
				out->h[out->n++] =
					(struct match_hit){(unsigned)k, sg->field, 0, 0, w->len};
				found++;
			}
			continue;
		}
		for (size_t p = 0; p + r->n_words[k] <= sg->n; p++) {
			size_t i = 0;

			while (i < r->n_words[k] &&
			       naive_word(&r->words[k][i], t->prefix && i + 1 == r->n_words[k],
					  &sg->w[p + i]))
				i++;
			if (i < r->n_words[k])
				continue;
			out->h[out->n++] = (struct match_hit){(unsigned)k, sg->field, sg->author,
							      sg->w[p].start, sg->w[p + i - 1].end};
			found++;
		}
	}
	assert_true(out->n < 4000);
	return found;
}

static bool naive_eval(const struct nrule *r, const bool *hit, const struct query_node *n)
{
	const struct query_node *c = n + 1;

	if (n->op == QUERY_TERM)
		return hit[n->arg];
	if (n->op == QUERY_NOT)
		return !naive_eval(r, hit, c);
	for (unsigned i = 0; i < n->arg; i++, c += c->size) {
		if (naive_eval(r, hit, c) == (n->op == QUERY_OR))
			return n->op == QUERY_OR;
	}
	return n->op == QUERY_AND;
}

/* Whether rule r matches the paper; its positive hits, in term order, into out. */
static bool naive_match(const struct nrule *r, const struct npaper *np, struct nhits *out)
{
	bool hit[QUERY_MAX_TERMS];
	struct nhits all = {.n = 0};

	out->n = 0;
	for (size_t k = 0; k < r->q.n_terms; k++) {
		size_t before = all.n;

		hit[k] = naive_term(r, k, np, &all) > 0;
		if (r->q.terms[k].negative)
			all.n = before;
	}
	if (!naive_eval(r, hit, r->q.nodes))
		return false;
	*out = all;
	return true;
}

/* ---- Random queries from the papers' own text ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* Appends text to q, with a field in front now and then. */
static void put(char *q, size_t size, const char *field, const char *text)
{
	size_t o = strlen(q);

	if (field != NULL && rnd(3) == 0)
		snprintf(q + o, size - o, "%s:%s", field, text);
	else
		snprintf(q + o, size - o, "%s", text);
}

/* Whether the slice can be written as a bare term: letters, digits, marks, '-' between. */
static bool bare_ok(const char *s, size_t n)
{
	static const char *const ops[] = {"AND", "OR", "NOT"};

	for (size_t i = 0; i < 3; i++) {
		if (n == strlen(ops[i]) && memcmp(s, ops[i], n) == 0)
			return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (strchr(" \t()\":*/\\", s[i]) != NULL || (i == 0 && s[0] == '-'))
			return false;
	}
	return n > 0;
}

/* One random term taken from paper np. */
static void random_term(char *q, size_t size, const struct npaper *np)
{
	static const char *const fields[] = {"title", "author", "abstract"};
	const struct nseg *g = &np->segs[rnd((unsigned)np->n_segs)];
	const char *field = g->field <= MATCH_ABSTRACT ? fields[g->field] : NULL;
	char buf[600];
	size_t w, k;

	if (rnd(10) == 0)
		field = fields[rnd(3)];
	if (g->field == MATCH_ID) {
		size_t n = strlen(g->s);

		snprintf(buf, sizeof(buf), "id:%.*s%s",
			 (int)(rnd(2) ? n : 3 + rnd((unsigned)n - 3)), g->s, rnd(2) ? "*" : "");
		if (buf[strlen(buf) - 1] != '*' && strlen(buf) - 3 < n)
			strcat(buf, "*");
		put(q, size, NULL, buf);
		return;
	}
	if (g->n == 0) {
		put(q, size, field, "zzqx");
		return;
	}
	w = rnd((unsigned)g->n);
	k = 1 + rnd(3);
	if (w + k > g->n)
		k = g->n - w;
	switch (rnd(10)) {
	case 0: /* a word as written, maybe its plural or singular */
	case 1: {
		size_t n = g->w[w].end - g->w[w].start;

		snprintf(buf, sizeof(buf), "%.*s", (int)n, g->s + g->w[w].start);
		if (n > 2 && rnd(2) == 0 && strcmp(buf + n - 2, "es") == 0)
			buf[n - 2] = '\0';
		else if (rnd(3) == 0 && n > 1 && buf[n - 1] == 's')
			buf[n - 1] = '\0';
		else if (rnd(4) == 0)
			strcat(buf, rnd(2) ? "s" : "es");
		break;
	}
	case 8: /* a phrase across two strings: the last word of one, the first of the next */
		if (g + 1 < np->segs + np->n_segs && g[1].n > 0 && g[1].field != MATCH_ID) {
			snprintf(buf, sizeof(buf), "\"%s %s\"", g->w[g->n - 1].s, g[1].w[0].s);
			field = NULL;
		} else {
			snprintf(buf, sizeof(buf), "zzqx");
		}
		break;
	case 9: { /* a phrase whose last word is a prefix: "visual decod*" */
		size_t last = w + (k > 1 ? k : 2) - 1, n, cut;

		if (last >= g->n) {
			snprintf(buf, sizeof(buf), "zzqx");
			break;
		}
		n = g->w[last].end - g->w[last].start;
		cut = 1 + rnd((unsigned)n);
		while (cut < n && ((unsigned char)g->s[g->w[last].start + cut] & 0xc0) == 0x80)
			cut++;
		snprintf(buf, sizeof(buf), "\"%.*s*\"",
			 (int)(g->w[last].start + cut - g->w[w].start), g->s + g->w[w].start);
		if (strchr(buf + 1, '"') != buf + strlen(buf) - 1 ||
		    strchr(buf, '*') != buf + strlen(buf) - 2)
			snprintf(buf, sizeof(buf), "zzqx");
		break;
	}
	case 2: { /* a prefix: some whole characters of a word */
		size_t n = g->w[w].end - g->w[w].start, cut = 1 + rnd((unsigned)n);

		while (cut < n && ((unsigned char)g->s[g->w[w].start + cut] & 0xc0) == 0x80)
			cut++;
		snprintf(buf, sizeof(buf), "%.*s*", (int)cut, g->s + g->w[w].start);
		break;
	}
	case 3: /* a phrase: the original text from one word to a later one */
	case 4:
		snprintf(buf, sizeof(buf), "\"%.*s\"", (int)(g->w[w + k - 1].end - g->w[w].start),
			 g->s + g->w[w].start);
		if (strchr(buf + 1, '"') != buf + strlen(buf) - 1 || strchr(buf, '*'))
			snprintf(buf, sizeof(buf), "zzqx");
		break;
	case 5: /* a regular expression around an ASCII word */
		if (g->w[w].len < 3 ||
		    strspn(g->w[w].s, "abcdefghijklmnopqrstuvwxyz0123456789") < g->w[w].len) {
			snprintf(buf, sizeof(buf), "zzqx");
			break;
		}
		switch (rnd(4)) {
		case 0:
			snprintf(buf, sizeof(buf), "/%s/", g->w[w].s);
			break;
		case 1:
			snprintf(buf, sizeof(buf), "/\\b%s\\w*/", g->w[w].s);
			break;
		case 2:
			snprintf(buf, sizeof(buf), "/%.*s\\w? \\w+/", (int)g->w[w].len - 1,
				 g->w[w].s);
			break;
		default:
			snprintf(buf, sizeof(buf), "/(%s|zzqx)/", g->w[w].s);
		}
		break;
	case 6: /* an author's whole name */
		for (size_t i = 0; i < np->n_segs; i++) {
			if (np->segs[i].field == MATCH_AUTHORS && rnd(2) == 0 &&
			    strchr(np->segs[i].s, '"') == NULL) {
				snprintf(buf, sizeof(buf), "author:\"%s\"", np->segs[i].s);
				put(q, size, NULL, buf);
				return;
			}
		}
		snprintf(buf, sizeof(buf), "robot");
		break;
	default: /* a word from the text as a bare term, or a bare multi-word slice */
		snprintf(buf, sizeof(buf), "%.*s", (int)(g->w[w + k - 1].end - g->w[w].start),
			 g->s + g->w[w].start);
		if (!bare_ok(buf, strlen(buf)))
			snprintf(buf, sizeof(buf), "\"%s\"", g->w[w].s);
	}
	put(q, size, field, buf);
}

/* A random query of one to four terms joined by random operators. */
static void random_query(char *q, size_t size, const struct npaper *papers, size_t n_papers)
{
	static const char *const joins[] = {" ", " AND ", " OR ", " OR ", " -", " NOT ", " AND -"};
	unsigned terms = 1 + rnd(4);
	bool open = false;

	q[0] = '\0';
	if (rnd(15) == 0)
		strcat(q, "-");
	for (unsigned i = 0; i < terms; i++) {
		if (i > 0)
			strcat(q, joins[rnd(7)]);
		if (!open && i + 1 < terms && rnd(4) == 0) {
			strcat(q, "(");
			open = true;
		}
		random_term(q, size, &papers[rnd((unsigned)n_papers)]);
		if (open && rnd(2) == 0) {
			strcat(q, ")");
			open = false;
		}
	}
	if (open)
		strcat(q, ")");
}

/* ---- The comparison ---- */

struct got {
	unsigned rules[N_QUERIES];
	size_t n_rules;
	size_t hit_at[N_QUERIES + 1];
	struct match_hit *hits;
	size_t n_hits, cap_hits;
};

static void got_rule(void *ctx, unsigned rule, const struct match_hit *hits, size_t n)
{
	struct got *g = ctx;

	g->hit_at[g->n_rules] = g->n_hits;
	g->rules[g->n_rules++] = rule;
	if (g->n_hits + n > g->cap_hits) {
		g->cap_hits = (g->n_hits + n) * 2;
		g->hits = xreallocarray(g->hits, g->cap_hits, sizeof(*g->hits));
	}
	if (n > 0)
		memcpy(g->hits + g->n_hits, hits, n * sizeof(*hits));
	g->n_hits += n;
	g->hit_at[g->n_rules] = g->n_hits;
}

static void load_papers(struct digest *d, struct npaper **np, size_t *n)
{
	struct parse_result res;
	struct err err;
	struct parse_opts opts = {.emit = digest_collect, .ctx = d};

	digest_init(d);
	for (size_t i = 0; i < sizeof(digests) / sizeof(digests[0]); i++)
		assert_int_equal(parse_file(fixture(digests[i]), &opts, &res, &err), 0);
	*n = d->n_papers + sizeof(extra) / sizeof(extra[0]);
	*np = xcalloc(*n, sizeof(**np));
	for (size_t i = 0; i < d->n_papers; i++)
		npaper_init(&(*np)[i], &d->papers[i]);
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		npaper_init(&(*np)[d->n_papers + i], &extra[i]);
}

/* Compares what the matcher said about one paper with the naive answer for every rule. */
static void compare_paper(const struct npaper *np, struct nrule *rules, const char **texts,
			  unsigned n_rules, const struct got *g)
{
	static struct nhits want;
	size_t next = 0;

	for (unsigned r = 0; r < n_rules; r++) {
		bool naive = naive_match(&rules[r], np, &want);
		bool compiled = next < g->n_rules && g->rules[next] == r;

		if (naive != compiled)
			fail_msg("paper %s, rule %u %s: naive %d, compiled %d", np->p->id, r,
				 texts[r], naive, compiled);
		if (!compiled)
			continue;
		if (g->hit_at[next + 1] - g->hit_at[next] != want.n)
			fail_msg("paper %s, rule %u %s: naive %zu hits, compiled %zu", np->p->id, r,
				 texts[r], want.n, g->hit_at[next + 1] - g->hit_at[next]);
		for (size_t i = 0; i < want.n; i++) {
			const struct match_hit *a = &want.h[i], *b = &g->hits[g->hit_at[next] + i];

			if (a->term != b->term || a->field != b->field || a->author != b->author ||
			    a->start != b->start || a->end != b->end)
				fail_msg("paper %s, rule %u %s: hit %zu: naive term %u %s[%u] "
					 "%zu-%zu, compiled term %u %s[%u] %zu-%zu",
					 np->p->id, r, texts[r], i, a->term,
					 match_field_name(a->field), a->author, a->start, a->end,
					 b->term, match_field_name(b->field), b->author, b->start,
					 b->end);
		}
		next++;
	}
}

static void random_queries_agree_with_a_naive_matcher_on_every_sample_paper(void **state)
{
	static char texts[N_QUERIES][1024];
	static const char *ptrs[N_QUERIES];
	struct nrule *rules = xcalloc(N_QUERIES, sizeof(*rules));
	struct matcher *m = matcher_new();
	struct got g = {0};
	struct query_error qe;
	struct npaper *np;
	struct digest d;
	size_t n_papers, refused = 0, matched = 0;

	(void)state;
	log_setup(LOG_STYLE_PLAIN, LOG_PRIO_ERR - 1);
	load_papers(&d, &np, &n_papers);
	for (unsigned r = 0; r < N_QUERIES; r++) {
		do {
			random_query(texts[r], sizeof(texts[r]), np, n_papers);
			refused += matcher_check(texts[r], &qe) != 0;
		} while (matcher_check(texts[r], &qe) != 0);
		assert_int_equal(matcher_add(m, texts[r], &qe), (int)r);
		nrule_init(&rules[r], texts[r]);
		ptrs[r] = texts[r];
	}
	/* Random slices make some bad queries, but few: most of the test is about matching. */
	assert_true(refused < N_QUERIES / 10);
	matcher_compile(m);
	for (size_t i = 0; i < n_papers; i++) {
		size_t count;

		g.n_rules = g.n_hits = 0;
		count = matcher_match(m, np[i].p, true, got_rule, &g);
		assert_int_equal(count, g.n_rules);
		assert_int_equal(matcher_match(m, np[i].p, false, NULL, NULL), count);
		compare_paper(&np[i], rules, ptrs, N_QUERIES, &g);
		matched += count;
	}
	/* The queries must match often enough for the agreement to mean something. */
	assert_true(matched > n_papers * 20);
	print_message("# %zu papers, %d queries, %zu matches, %zu refused queries redrawn\n",
		      n_papers, N_QUERIES, matched, refused);
	for (unsigned r = 0; r < N_QUERIES; r++)
		nrule_free(&rules[r]);
	for (size_t i = 0; i < n_papers; i++)
		npaper_free(&np[i]);
	free(rules);
	free(np);
	free(g.hits);
	matcher_free(m);
	digest_free(&d);
}

/* A few rules at a time, as most configurations have: the matcher's sieve then decides which
 * papers are cut into words at all, and must never leave out one that a rule matches. */
static void a_few_random_queries_at_a_time_agree_too(void **state)
{
	enum { ROUNDS = 300, MAX_SET = 4 };
	static char texts[MAX_SET][1024];
	const char *ptrs[MAX_SET];
	struct nrule rules[MAX_SET];
	struct got g = {0};
	struct query_error qe;
	struct npaper *np;
	struct digest d;
	size_t n_papers, matched = 0, missed = 0;

	(void)state;
	log_setup(LOG_STYLE_PLAIN, LOG_PRIO_ERR - 1);
	load_papers(&d, &np, &n_papers);
	for (unsigned round = 0; round < ROUNDS; round++) {
		struct matcher *m = matcher_new();
		unsigned n = 1 + rnd(MAX_SET);

		for (unsigned r = 0; r < n; r++) {
			do
				random_query(texts[r], sizeof(texts[r]), np, n_papers);
			while (matcher_check(texts[r], &qe) != 0);
			assert_int_equal(matcher_add(m, texts[r], &qe), (int)r);
			nrule_init(&rules[r], texts[r]);
			ptrs[r] = texts[r];
		}
		matcher_compile(m);
		for (size_t i = 0; i < n_papers; i++) {
			size_t count;

			g.n_rules = g.n_hits = 0;
			count = matcher_match(m, np[i].p, true, got_rule, &g);
			compare_paper(&np[i], rules, ptrs, n, &g);
			matched += count;
			missed += count == 0;
		}
		for (unsigned r = 0; r < n; r++)
			nrule_free(&rules[r]);
		matcher_free(m);
	}
	/* Both kinds of paper, many times: those some rule matches and those none does. */
	assert_true(matched > ROUNDS * 2);
	assert_true(missed > ROUNDS * n_papers / 4);
	print_message("# %d sets of up to %d queries, %zu matches\n", ROUNDS, MAX_SET, matched);
	for (size_t i = 0; i < n_papers; i++)
		npaper_free(&np[i]);
	free(np);
	free(g.hits);
	digest_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_queries_agree_with_a_naive_matcher_on_every_sample_paper),
		cmocka_unit_test(a_few_random_queries_at_a_time_agree_too),
	};

	return cmocka_run_group_tests_name("match_diff", tests, NULL, NULL);
}
