/*
 * match.c — all rules compiled together. Terms that several rules share are compiled once; every
 * word key (a word and its plurals, a prefix, an id) goes into one dictionary whose postings
 * name the terms it stands for. A paper is cut into words once, each word looked up once (and,
 * when prefix terms exist, its prefixes of the lengths they have); only rules that had a term hit
 * are then evaluated in full, beside the few that could match without any (pure negations, and
 * regular expressions with no literal text to look for).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hmap.h"
#include "match.h"
#include "query.h"
#include "rx.h"
#include "text.h"
#include "xmalloc.h"

#define NONE UINT32_MAX
/* Bits in the filters that spare most prefix and literal lookups a probe of the hash table. */
#define FILTER_BITS 16

/* What a dictionary key stands for. */
struct posting {
	uint32_t term;
	uint8_t fields; /* the term's QUERY_FIELD bits */
	uint8_t anchor; /* which word of the term the key is */
	uint8_t phrase; /* the term has more words, to confirm by position */
};

/* The postings of one key: n_exact that need the whole word, then n_prefix for which the key
 * is a prefix of the word. */
struct dict_entry {
	uint32_t first, n_exact, n_prefix;
};

/* A term as compiled, shared by every rule that has it. */
struct cterm {
	enum query_kind kind;
	unsigned fields;
	bool prefix;
	uint32_t n_words, anchor; /* QUERY_WORDS: the word the dictionary holds for a phrase */
	struct query_word *words;
	const char *id; /* QUERY_ID */
	size_t id_len;
	struct rx *rx;           /* QUERY_REGEX, owned */
	uint32_t lit;            /* QUERY_REGEX: its literal in lits[], or NONE */
	uint32_t rules, n_rules; /* term_rules[rules, rules + n_rules) */
};

struct rule {
	uint32_t nodes, n_nodes; /* in m->nodes */
	uint32_t terms, n_terms; /* in m->rule_terms, m->term_texts, m->term_neg */
};

/* The literal text of a regular expression, found by its first three bytes. */
struct literal {
	uint32_t term;
	const char *s;
	uint32_t len;
	uint32_t next; /* the next literal with the same first three bytes */
};

/* A string of the paper being matched. */
struct seg {
	enum match_field field;
	unsigned author;
	const char *s;
	size_t n;
};

/* Where a term hit: words first..last, and the next hit of the same term. */
struct occ {
	uint32_t first, last, next;
};

/* A phrase whose dictionary word was seen: its first word would be word pos. */
struct cand {
	uint32_t term, pos;
};

/* Everything one paper needs, kept from paper to paper; per-term marks hold the number of the
 * paper (gen) they are about, so nothing is cleared between papers. */
struct scratch {
	uint32_t gen;
	bool explain;
	uint32_t *hit;                  /* per term: == gen when it hit */
	uint32_t *occ_first, *occ_last; /* per term that hit: its hits, when explaining */
	uint32_t *rx_gen;               /* per term: == gen when rx_val says whether it matched */
	bool *rx_val;
	uint32_t *lit_gen; /* per literal: == gen when seen, in the fields lit_fields says */
	uint8_t *lit_fields;
	uint32_t *lits_seen;
	size_t n_lits_seen;
	uint64_t *cand; /* per rule: has a term that hit, so it must be evaluated */
	struct text_words tw;
	struct seg *segs;
	size_t n_segs, cap_segs;
	struct occ *occs;
	size_t n_occs, cap_occs;
	struct cand *cands;
	size_t n_cands, cap_cands;
	struct match_hit *hits;
	size_t n_hits, cap_hits;
};

struct matcher {
	struct arena arena; /* term words and texts, dictionary keys */
	struct rule *rules;
	size_t n_rules, cap_rules;
	struct query_node *nodes;
	size_t n_nodes, cap_nodes;
	uint32_t *rule_terms; /* a rule's terms as compiled terms */
	const char **term_texts;
	bool *term_neg;
	size_t n_rule_terms, cap_rule_terms;
	struct cterm *terms;
	size_t n_terms, cap_terms;
	struct hmap term_index; /* a term's kind, fields and text -> its index */
	uint32_t *pairs;        /* (term, rule) as added, for term_rules */
	size_t n_pairs, cap_pairs;

	bool compiled;
	struct hmap dict; /* key -> entries[] */
	struct dict_entry *entries;
	size_t n_entries, cap_entries;
	struct posting *postings;
	uint32_t *term_rules;
	uint8_t *pfx_len; /* pfx_len[n]: some prefix key has n bytes */
	size_t max_pfx, cap_pfx;
	uint64_t *pfx_filter;
	struct literal *lits;
	size_t n_lits, cap_lits;
	struct hmap lit_index; /* first three bytes -> lits[] */
	uint64_t *lit_filter;
	unsigned lit_fields; /* fields some literal is looked for in */
	uint64_t *always;    /* per rule: evaluated for every paper */
	size_t n_rule_words; /* 64-bit words in always and cand */
	struct scratch s;
};

/* Makes room for need elements in *p, which has *cap. */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	while (*cap < need)
		*cap = *cap ? *cap * 2 : 16;
	return xreallocarray(p, *cap, size);
}

static bool bit_test(const uint64_t *bits, uint32_t i)
{
	return (bits[i >> 6] >> (i & 63)) & 1;
}

static void bit_set(uint64_t *bits, uint32_t i)
{
	bits[i >> 6] |= (uint64_t)1 << (i & 63);
}

const char *match_field_name(enum match_field f)
{
	static const char *const names[] = {"title", "author", "abstract", "id"};

	return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "?";
}

struct matcher *matcher_new(void)
{
	struct matcher *m = xcalloc(1, sizeof(*m));

	arena_init(&m->arena);
	hmap_init(&m->term_index);
	hmap_init(&m->dict);
	hmap_init(&m->lit_index);
	text_words_init(&m->s.tw);
	return m;
}

/* Frees what matcher_compile built, so that it can build again. */
static void compiled_free(struct matcher *m)
{
	struct scratch *s = &m->s;

	hmap_free(&m->dict);
	hmap_free(&m->lit_index);
	free(m->entries);
	free(m->postings);
	free(m->term_rules);
	free(m->pfx_len);
	free(m->pfx_filter);
	free(m->lit_filter);
	free(m->lits);
	free(m->always);
	free(s->hit);
	free(s->occ_first);
	free(s->occ_last);
	free(s->rx_gen);
	free(s->rx_val);
	free(s->lit_gen);
	free(s->lit_fields);
	free(s->lits_seen);
	free(s->cand);
	m->entries = NULL;
	m->n_entries = m->cap_entries = 0;
	m->postings = NULL;
	m->term_rules = NULL;
	m->pfx_len = NULL;
	m->max_pfx = m->cap_pfx = 0;
	m->pfx_filter = NULL;
	m->lits = NULL;
	m->n_lits = m->cap_lits = 0;
	m->lit_filter = NULL;
	m->always = NULL;
	s->hit = s->occ_first = s->occ_last = s->rx_gen = s->lit_gen = s->lits_seen = NULL;
	s->rx_val = NULL;
	s->lit_fields = NULL;
	s->cand = NULL;
	m->compiled = false;
}

void matcher_free(struct matcher *m)
{
	if (m == NULL)
		return;
	compiled_free(m);
	for (size_t i = 0; i < m->n_terms; i++)
		rx_free(m->terms[i].rx);
	free(m->rules);
	free(m->nodes);
	free(m->rule_terms);
	free(m->term_texts);
	free(m->term_neg);
	free(m->terms);
	free(m->pairs);
	hmap_free(&m->term_index);
	text_words_free(&m->s.tw);
	free(m->s.segs);
	free(m->s.occs);
	free(m->s.cands);
	free(m->s.hits);
	arena_free(&m->arena);
	free(m);
}

size_t matcher_count(const struct matcher *m)
{
	return m->n_rules;
}

const char *matcher_term_text(const struct matcher *m, unsigned rule, unsigned term)
{
	if (rule >= m->n_rules || term >= m->rules[rule].n_terms)
		return NULL;
	return m->term_texts[m->rules[rule].terms + term];
}

size_t matcher_term_count(const struct matcher *m, unsigned rule)
{
	return rule < m->n_rules ? m->rules[rule].n_terms : 0;
}

int matcher_check(const char *query, struct query_error *qe)
{
	struct query q;

	if (query_parse(&q, query, qe) != 0)
		return -1;
	query_free(&q);
	return 0;
}

/* ---- Adding rules ---- */

/* The bytes that identify a term: equal keys, equal terms. The caller frees the result. */
static char *term_key(const struct query_term *t, size_t *len)
{
	size_t n = 3, o = 3;
	char *key;

	if (t->kind == QUERY_WORDS) {
		for (size_t i = 0; i < t->n_words; i++)
			n += t->words[i].len + 1;
	} else {
		n += strlen(t->kind == QUERY_ID ? t->id : t->text);
	}
	key = xmalloc(n);
	key[0] = (char)('0' + t->kind);
	key[1] = (char)('0' + t->fields);
	key[2] = (char)('0' + t->prefix);
	if (t->kind == QUERY_WORDS) {
		for (size_t i = 0; i < t->n_words; i++) {
			memcpy(key + o, t->words[i].s, t->words[i].len);
			o += t->words[i].len;
			key[o++] = '\0';
		}
	} else {
		memcpy(key + o, t->kind == QUERY_ID ? t->id : t->text, n - o);
	}
	*len = n;
	return key;
}

/* The compiled term for t, made if no rule had it yet; takes t's regular expression then. */
static uint32_t intern_term(struct matcher *m, struct query_term *t)
{
	size_t len;
	char *key = term_key(t, &len);
	bool existed;
	struct hmap_slot *slot = hmap_put(&m->term_index, key, len, &existed);
	struct cterm *c;

	if (existed) {
		free(key);
		return slot->value;
	}
	slot->key = arena_strndup(&m->arena, key, len);
	slot->value = (uint32_t)m->n_terms;
	free(key);
	m->terms = grow(m->terms, &m->cap_terms, m->n_terms + 1, sizeof(*m->terms));
	c = &m->terms[m->n_terms++];
	*c = (struct cterm){.kind = t->kind,
			    .fields = t->fields,
			    .prefix = t->prefix,
			    .n_words = (uint32_t)t->n_words,
			    .rx = t->rx,
			    .lit = NONE};
	t->rx = NULL;
	if (t->kind == QUERY_ID)
		c->id = arena_strndup(&m->arena, t->id, t->id_len);
	c->id_len = t->id_len;
	if (t->kind == QUERY_WORDS) {
		c->words = arena_alloc(&m->arena, t->n_words * sizeof(*c->words));
		for (size_t i = 0; i < t->n_words; i++) {
			c->words[i] = t->words[i];
			c->words[i].s = arena_strndup(&m->arena, t->words[i].s, t->words[i].len);
		}
	}
	return slot->value;
}

int matcher_add(struct matcher *m, const char *query, struct query_error *qe)
{
	struct query q;
	struct rule *r;

	if (m->n_rules >= INT32_MAX) {
		qe->column = 1;
		snprintf(qe->msg, sizeof(qe->msg), "too many rules");
		return -1;
	}
	if (query_parse(&q, query, qe) != 0)
		return -1;
	m->rules = grow(m->rules, &m->cap_rules, m->n_rules + 1, sizeof(*m->rules));
	r = &m->rules[m->n_rules];
	*r = (struct rule){(uint32_t)m->n_nodes, (uint32_t)q.n_nodes, (uint32_t)m->n_rule_terms,
			   (uint32_t)q.n_terms};
	m->nodes = grow(m->nodes, &m->cap_nodes, m->n_nodes + q.n_nodes, sizeof(*m->nodes));
	memcpy(m->nodes + m->n_nodes, q.nodes, q.n_nodes * sizeof(*q.nodes));
	m->n_nodes += q.n_nodes;
	m->rule_terms = grow(m->rule_terms, &m->cap_rule_terms, m->n_rule_terms + q.n_terms,
			     sizeof(*m->rule_terms));
	m->term_texts = xreallocarray(m->term_texts, m->cap_rule_terms, sizeof(*m->term_texts));
	m->term_neg = xreallocarray(m->term_neg, m->cap_rule_terms, sizeof(*m->term_neg));
	m->pairs = grow(m->pairs, &m->cap_pairs, m->n_pairs + 2 * q.n_terms, sizeof(*m->pairs));
	for (size_t i = 0; i < q.n_terms; i++) {
		uint32_t u = intern_term(m, &q.terms[i]);

		m->rule_terms[m->n_rule_terms] = u;
		m->term_texts[m->n_rule_terms] =
			arena_strndup(&m->arena, q.terms[i].text, strlen(q.terms[i].text));
		m->term_neg[m->n_rule_terms++] = q.terms[i].negative;
		m->pairs[m->n_pairs++] = u;
		m->pairs[m->n_pairs++] = (uint32_t)m->n_rules;
	}
	query_free(&q);
	m->compiled = false;
	return (int)m->n_rules++;
}

/* ---- Compiling ---- */

/* A posting waiting for its key's entry to be laid out. */
struct pending {
	uint32_t entry;
	bool prefix;
	struct posting p;
};

struct build {
	struct pending *pend;
	size_t n_pend, cap_pend;
	char *buf; /* a key with a plural ending */
	size_t cap_buf;
};

/* Adds key[0..len) for posting p to the dictionary. */
static void add_key(struct matcher *m, struct build *b, const char *key, size_t len, bool prefix,
		    struct posting p)
{
	bool existed;
	struct hmap_slot *slot = hmap_put(&m->dict, key, len, &existed);

	if (!existed) {
		slot->key = arena_strndup(&m->arena, key, len);
		slot->value = (uint32_t)m->n_entries;
		m->entries =
			grow(m->entries, &m->cap_entries, m->n_entries + 1, sizeof(*m->entries));
		m->entries[m->n_entries++] = (struct dict_entry){0, 0, 0};
	}
	b->pend = grow(b->pend, &b->cap_pend, b->n_pend + 1, sizeof(*b->pend));
	b->pend[b->n_pend++] = (struct pending){slot->value, prefix, p};
	if (prefix) {
		size_t old = m->cap_pfx;

		m->pfx_len = grow(m->pfx_len, &m->cap_pfx, len + 1, 1);
		memset(m->pfx_len + old, 0, m->cap_pfx - old);
		if (len > m->max_pfx)
			m->max_pfx = len;
		m->pfx_len[len] = 1;
		bit_set(m->pfx_filter, hmap_hash(key, len) >> (32 - FILTER_BITS));
	}
}

/* Adds the keys of a word that follows the word rule: itself and its plurals. */
static void add_word_keys(struct matcher *m, struct build *b, const struct query_word *w,
			  struct posting p)
{
	add_key(m, b, w->s, w->len, false, p);
	if (w->nospace)
		return;
	b->buf = grow(b->buf, &b->cap_buf, w->len + 2, 1);
	memcpy(b->buf, w->s, w->len);
	b->buf[w->len] = 's';
	add_key(m, b, b->buf, w->len + 1, false, p);
	if (text_takes_es(w->s, w->len)) {
		b->buf[w->len] = 'e';
		b->buf[w->len + 1] = 's';
		add_key(m, b, b->buf, w->len + 2, false, p);
	}
}

/* The word of a phrase the dictionary holds: the longest, most likely the rarest, that is not
 * a prefix. */
static uint32_t phrase_anchor(const struct cterm *t)
{
	uint32_t best = 0, last = t->n_words - (t->prefix ? 1 : 0);

	for (uint32_t i = 1; i < last; i++) {
		if (t->words[i].len > t->words[best].len)
			best = i;
	}
	return best;
}

static void add_term_keys(struct matcher *m, struct build *b, uint32_t u)
{
	struct cterm *t = &m->terms[u];
	struct posting p = {u, (uint8_t)t->fields, 0, 0};

	if (t->kind == QUERY_ID) {
		add_key(m, b, t->id, t->id_len, t->prefix, p);
	} else if (t->kind == QUERY_WORDS && t->n_words == 1) {
		if (t->prefix)
			add_key(m, b, t->words[0].s, t->words[0].len, true, p);
		else
			add_word_keys(m, b, &t->words[0], p);
	} else if (t->kind == QUERY_WORDS) {
		t->anchor = phrase_anchor(t);
		p.anchor = (uint8_t)t->anchor;
		p.phrase = 1;
		add_word_keys(m, b, &t->words[t->anchor], p);
	}
}

/* Lays the pending postings out entry by entry, exact ones first. */
static void layout_postings(struct matcher *m, struct build *b)
{
	uint32_t *fill = xcalloc(m->n_entries + 1, 2 * sizeof(*fill)), at = 0;

	for (size_t i = 0; i < b->n_pend; i++) {
		struct dict_entry *e = &m->entries[b->pend[i].entry];

		if (b->pend[i].prefix)
			e->n_prefix++;
		else
			e->n_exact++;
	}
	for (size_t i = 0; i < m->n_entries; i++) {
		m->entries[i].first = at;
		at += m->entries[i].n_exact + m->entries[i].n_prefix;
	}
	m->postings = xreallocarray(NULL, at, sizeof(*m->postings));
	for (size_t i = 0; i < b->n_pend; i++) {
		const struct pending *pd = &b->pend[i];
		const struct dict_entry *e = &m->entries[pd->entry];
		uint32_t slot = pd->prefix ? e->n_exact + fill[2 * (size_t)pd->entry + 1]++
					   : fill[2 * (size_t)pd->entry]++;

		m->postings[e->first + slot] = pd->p;
	}
	free(fill);
}

/* Lists, for each term, the rules that have it (each once), from the pairs noted when adding. */
static void link_term_rules(struct matcher *m)
{
	uint32_t at = 0;

	m->term_rules = xreallocarray(NULL, m->n_pairs / 2 + 1, sizeof(*m->term_rules));
	for (size_t i = 0; i < m->n_terms; i++)
		m->terms[i].n_rules = 0;
	for (size_t i = 0; i < m->n_pairs; i += 2)
		m->terms[m->pairs[i]].n_rules++;
	for (size_t i = 0; i < m->n_terms; i++) {
		m->terms[i].rules = at;
		at += m->terms[i].n_rules;
		m->terms[i].n_rules = 0;
	}
	for (size_t i = 0; i < m->n_pairs; i += 2) {
		struct cterm *t = &m->terms[m->pairs[i]];
		uint32_t rule = m->pairs[i + 1];

		/* Pairs come in rule order, so a rule naming a term twice is caught here. */
		if (t->n_rules > 0 && m->term_rules[t->rules + t->n_rules - 1] == rule)
			continue;
		m->term_rules[t->rules + t->n_rules++] = rule;
	}
}

/* The 24-bit value of three bytes, lower-cased, and its place in the literal filter. */
static uint32_t trigram_bit(uint32_t g)
{
	return (g * 0x9e3779b1u) >> (32 - FILTER_BITS);
}

static uint32_t lower_byte(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (uint32_t)(c | 0x20) : c;
}

/* Indexes the literals of regular expressions by their first three bytes. */
static void index_literals(struct matcher *m)
{
	m->lit_fields = 0;
	for (uint32_t u = 0; u < m->n_terms; u++) {
		struct cterm *t = &m->terms[u];
		struct hmap_slot *slot;
		const char *s;
		size_t len;
		bool existed;

		if (t->kind != QUERY_REGEX || (s = rx_literal(t->rx, &len)) == NULL)
			continue;
		m->lits = grow(m->lits, &m->cap_lits, m->n_lits + 1, sizeof(*m->lits));
		t->lit = (uint32_t)m->n_lits;
		slot = hmap_put(&m->lit_index, s, 3, &existed);
		m->lits[m->n_lits] =
			(struct literal){u, s, (uint32_t)len, existed ? slot->value : NONE};
		slot->value = (uint32_t)m->n_lits++;
		bit_set(m->lit_filter, trigram_bit(lower_byte((unsigned char)s[0]) << 16 |
						   lower_byte((unsigned char)s[1]) << 8 |
						   lower_byte((unsigned char)s[2])));
		m->lit_fields |= t->fields;
	}
}

/* Kleene's three values, for whether a rule can match with no term seen. */
enum tri { TRI_NO, TRI_MAYBE, TRI_YES };

/* The value of the subtree at n when no term was seen in the paper: every term is false, but
 * a regular expression without a literal may still match anything. */
static enum tri unseen_value(const struct matcher *m, const uint32_t *terms,
			     const struct query_node *n)
{
	const struct query_node *c = n + 1;
	enum tri v;

	switch (n->op) {
	case QUERY_TERM: {
		const struct cterm *t = &m->terms[terms[n->arg]];

		return t->kind == QUERY_REGEX && t->lit == NONE ? TRI_MAYBE : TRI_NO;
	}
	case QUERY_NOT:
		return (enum tri)(TRI_YES - unseen_value(m, terms, c));
	case QUERY_AND:
		v = TRI_YES;
		for (unsigned i = 0; i < n->arg; i++, c += c->size) {
			enum tri k = unseen_value(m, terms, c);

			v = k < v ? k : v;
		}
		return v;
	default:
		v = TRI_NO;
		for (unsigned i = 0; i < n->arg; i++, c += c->size) {
			enum tri k = unseen_value(m, terms, c);

			v = k > v ? k : v;
		}
		return v;
	}
}

/* Sizes the per-paper scratch for the terms, literals and rules there are now. */
static void scratch_size(struct matcher *m)
{
	struct scratch *s = &m->s;
	size_t t = m->n_terms + 1, l = m->n_lits + 1;

	s->gen = 0;
	s->hit = xcalloc(t, sizeof(*s->hit));
	s->occ_first = xcalloc(t, sizeof(*s->occ_first));
	s->occ_last = xcalloc(t, sizeof(*s->occ_last));
	s->rx_gen = xcalloc(t, sizeof(*s->rx_gen));
	s->rx_val = xcalloc(t, sizeof(*s->rx_val));
	s->lit_gen = xcalloc(l, sizeof(*s->lit_gen));
	s->lit_fields = xcalloc(l, sizeof(*s->lit_fields));
	s->lits_seen = xcalloc(l, sizeof(*s->lits_seen));
	s->cand = xcalloc(m->n_rule_words, sizeof(*s->cand));
}

void matcher_compile(struct matcher *m)
{
	struct build b = {0};

	compiled_free(m);
	m->pfx_filter = xcalloc((1u << FILTER_BITS) / 64, sizeof(uint64_t));
	m->lit_filter = xcalloc((1u << FILTER_BITS) / 64, sizeof(uint64_t));
	link_term_rules(m);
	hmap_reserve(&m->dict, m->n_terms * 3);
	for (uint32_t u = 0; u < m->n_terms; u++)
		add_term_keys(m, &b, u);
	layout_postings(m, &b);
	index_literals(m);
	m->n_rule_words = (m->n_rules + 63) / 64 + 1;
	m->always = xcalloc(m->n_rule_words, sizeof(*m->always));
	for (uint32_t r = 0; r < m->n_rules; r++) {
		const struct rule *rule = &m->rules[r];

		if (unseen_value(m, m->rule_terms + rule->terms, m->nodes + rule->nodes) != TRI_NO)
			bit_set(m->always, r);
	}
	scratch_size(m);
	free(b.pend);
	free(b.buf);
	m->compiled = true;
}

/* ---- Matching one paper ---- */

/* Starts a new paper: a new number for the marks, nothing carried over. */
static void paper_begin(struct matcher *m, bool explain)
{
	struct scratch *s = &m->s;

	if (++s->gen == 0) {
		/* After four billion papers the numbers come round again. */
		memset(s->hit, 0, (m->n_terms + 1) * sizeof(*s->hit));
		memset(s->rx_gen, 0, (m->n_terms + 1) * sizeof(*s->rx_gen));
		memset(s->lit_gen, 0, (m->n_lits + 1) * sizeof(*s->lit_gen));
		s->gen = 1;
	}
	s->explain = explain;
	s->n_segs = s->n_occs = s->n_cands = s->n_lits_seen = 0;
	text_words_clear(&s->tw);
}

/* Adds a string of the paper, cut into words when some term looks for words. */
static void add_seg(struct matcher *m, enum match_field f, unsigned author, const char *str)
{
	struct scratch *s = &m->s;
	uint32_t seg = (uint32_t)s->n_segs;
	size_t n = strlen(str);

	s->segs = grow(s->segs, &s->cap_segs, s->n_segs + 1, sizeof(*s->segs));
	s->segs[s->n_segs++] = (struct seg){f, author, str, n};
	if (m->n_entries == 0 || n == 0)
		return;
	if (f == MATCH_ID)
		text_add_verbatim(&s->tw, str, n, seg);
	else
		text_cut(&s->tw, str, n, seg);
}

static void cut_paper(struct matcher *m, const struct paper *p)
{
	if (p->title != NULL)
		add_seg(m, MATCH_TITLE, 0, p->title);
	for (size_t i = 0; p->authors != NULL && i < p->n_authors; i++) {
		if (p->authors[i] != NULL)
			add_seg(m, MATCH_AUTHORS, (unsigned)i, p->authors[i]);
	}
	if (p->abstract != NULL)
		add_seg(m, MATCH_ABSTRACT, 0, p->abstract);
	if (p->id != NULL)
		add_seg(m, MATCH_ID, 0, p->id);
}

/* Marks the rules that have term u for evaluation. */
static void touch_rules(struct matcher *m, uint32_t u)
{
	const struct cterm *t = &m->terms[u];

	for (uint32_t i = 0; i < t->n_rules; i++)
		bit_set(m->s.cand, m->term_rules[t->rules + i]);
}

/* Term u hit words first..last. */
static void term_hit(struct matcher *m, uint32_t u, uint32_t first, uint32_t last)
{
	struct scratch *s = &m->s;

	if (s->hit[u] != s->gen) {
		s->hit[u] = s->gen;
		s->occ_first[u] = NONE;
		touch_rules(m, u);
	}
	if (!s->explain)
		return;
	s->occs = grow(s->occs, &s->cap_occs, s->n_occs + 1, sizeof(*s->occs));
	s->occs[s->n_occs] = (struct occ){first, last, NONE};
	if (s->occ_first[u] == NONE)
		s->occ_first[u] = (uint32_t)s->n_occs;
	else
		s->occs[s->occ_last[u]].next = (uint32_t)s->n_occs;
	s->occ_last[u] = (uint32_t)s->n_occs++;
}

/* Word i matched a dictionary key: acts on its postings (only those for which the key is a
 * prefix, when it is a strict prefix of the word). */
static void apply_entry(struct matcher *m, const struct dict_entry *e, bool strict_prefix,
			uint32_t i, unsigned fbit)
{
	const struct posting *p = m->postings + e->first + (strict_prefix ? e->n_exact : 0);
	const struct posting *end = m->postings + e->first + e->n_exact + e->n_prefix;
	struct scratch *s = &m->s;

	for (; p < end; p++) {
		if (!(p->fields & fbit))
			continue;
		if (!p->phrase) {
			term_hit(m, p->term, i, i);
		} else if (i >= p->anchor) {
			s->cands = grow(s->cands, &s->cap_cands, s->n_cands + 1, sizeof(*s->cands));
			s->cands[s->n_cands++] = (struct cand){p->term, i - p->anchor};
		}
	}
}

/* Looks every word up in the dictionary, and its prefixes of the lengths prefix keys have. The
 * hashes of the prefixes come from the same pass as the word's. */
static void scan_words(struct matcher *m)
{
	const struct text_words *tw = &m->s.tw;

	for (uint32_t i = 0; i < tw->n; i++) {
		const struct text_word *w = &tw->w[i];
		const char *b = text_word_bytes(tw, i);
		unsigned fbit = QUERY_FIELD(m->s.segs[w->seg].field);
		uint32_t h = HMAP_HASH_SEED, j = 0, lim = w->len - 1;
		const uint32_t *e;

		if (lim > m->max_pfx)
			lim = (uint32_t)m->max_pfx;
		for (; j < lim; j++) {
			h = hmap_hash_step(h, (unsigned char)b[j]);
			if (m->pfx_len[j + 1] && bit_test(m->pfx_filter, h >> (32 - FILTER_BITS)) &&
			    (e = hmap_get_hashed(&m->dict, b, j + 1, h)) != NULL)
				apply_entry(m, &m->entries[*e], true, i, fbit);
		}
		for (; j < w->len; j++)
			h = hmap_hash_step(h, (unsigned char)b[j]);
		e = hmap_get_hashed(&m->dict, b, w->len, h);
		if (e != NULL)
			apply_entry(m, &m->entries[*e], false, i, fbit);
	}
}

/* Whether the phrase t, its first word at word pos, is there: every word in place, all in
 * the same string. */
static bool phrase_at(const struct matcher *m, const struct cterm *t, uint32_t pos)
{
	const struct text_words *tw = &m->s.tw;
	uint32_t seg = tw->w[pos + t->anchor].seg;

	if (pos + t->n_words > tw->n)
		return false;
	for (uint32_t k = 0; k < t->n_words; k++) {
		const struct text_word *w = &tw->w[pos + k];
		const struct query_word *q = &t->words[k];

		if (w->seg != seg)
			return false;
		if (k != t->anchor &&
		    !text_word_is(q->s, q->len, q->nospace, t->prefix && k + 1 == t->n_words,
				  text_word_bytes(tw, pos + k), w->len))
			return false;
	}
	return true;
}

static void confirm_phrases(struct matcher *m)
{
	struct scratch *s = &m->s;

	for (size_t i = 0; i < s->n_cands; i++) {
		const struct cand *c = &s->cands[i];
		const struct cterm *t = &m->terms[c->term];

		if (phrase_at(m, t, c->pos))
			term_hit(m, c->term, c->pos, c->pos + t->n_words - 1);
	}
}

/* Notes every literal of a regular expression that occurs in s[0..n), a string of field fbit,
 * ASCII case aside. Three bytes at a time go through a filter before the table is asked. */
static void scan_literals_in(struct matcher *m, const char *str, size_t n, unsigned fbit)
{
	const unsigned char *s = (const unsigned char *)str;
	struct scratch *sc = &m->s;
	uint32_t g;

	if (n < 3)
		return;
	g = lower_byte(s[0]) << 8 | lower_byte(s[1]);
	for (size_t i = 2; i < n; i++) {
		const uint32_t *first;
		char key[3];

		g = (g << 8 | lower_byte(s[i])) & 0xffffff;
		if (!bit_test(m->lit_filter, trigram_bit(g)))
			continue;
		key[0] = (char)(g >> 16);
		key[1] = (char)(g >> 8);
		key[2] = (char)g;
		first = hmap_get(&m->lit_index, key, 3);
		for (uint32_t l = first ? *first : NONE; l != NONE; l = m->lits[l].next) {
			const struct literal *lit = &m->lits[l];

			if (lit->len > n - (i - 2) ||
			    strncasecmp(str + i - 2, lit->s, lit->len) != 0)
				continue;
			if (sc->lit_gen[l] != sc->gen) {
				sc->lit_gen[l] = sc->gen;
				sc->lit_fields[l] = 0;
				sc->lits_seen[sc->n_lits_seen++] = l;
			}
			sc->lit_fields[l] |= (uint8_t)fbit;
		}
	}
}

/* Finds the literals of regular expressions in the paper; the rules of each regular expression
 * whose literal is there in a field it searches will be evaluated. */
static void scan_literals(struct matcher *m)
{
	struct scratch *s = &m->s;

	for (size_t i = 0; i < s->n_segs; i++) {
		unsigned fbit = QUERY_FIELD(s->segs[i].field);

		if (m->lit_fields & fbit)
			scan_literals_in(m, s->segs[i].s, s->segs[i].n, fbit);
	}
	for (size_t i = 0; i < s->n_lits_seen; i++) {
		const struct literal *lit = &m->lits[s->lits_seen[i]];

		if (m->terms[lit->term].fields & s->lit_fields[s->lits_seen[i]])
			touch_rules(m, lit->term);
	}
}

/* The fields a regular expression must be run on: those it searches, less those where its
 * literal is missing. */
static unsigned rx_fields(const struct matcher *m, const struct cterm *t)
{
	if (t->lit == NONE)
		return t->fields;
	return m->s.lit_gen[t->lit] == m->s.gen ? t->fields & m->s.lit_fields[t->lit] : 0;
}

/* Whether the regular expression of term u matches the paper, run at most once per paper. */
static bool rx_value(struct matcher *m, uint32_t u)
{
	struct scratch *s = &m->s;
	const struct cterm *t = &m->terms[u];
	unsigned fields;
	size_t a, b;

	if (s->rx_gen[u] == s->gen)
		return s->rx_val[u];
	s->rx_gen[u] = s->gen;
	s->rx_val[u] = false;
	fields = rx_fields(m, t);
	for (size_t i = 0; fields != 0 && i < s->n_segs; i++) {
		const struct seg *g = &s->segs[i];

		if ((fields & QUERY_FIELD(g->field)) && rx_find(t->rx, g->s, g->n, 0, &a, &b)) {
			s->rx_val[u] = true;
			break;
		}
	}
	return s->rx_val[u];
}

static bool eval(struct matcher *m, const uint32_t *terms, const struct query_node *n)
{
	const struct query_node *c = n + 1;

	switch (n->op) {
	case QUERY_TERM: {
		uint32_t u = terms[n->arg];

		if (m->terms[u].kind == QUERY_REGEX)
			return rx_value(m, u);
		return m->s.hit[u] == m->s.gen;
	}
	case QUERY_NOT:
		return !eval(m, terms, c);
	case QUERY_AND:
		for (unsigned i = 0; i < n->arg; i++, c += c->size) {
			if (!eval(m, terms, c))
				return false;
		}
		return true;
	default:
		for (unsigned i = 0; i < n->arg; i++, c += c->size) {
			if (eval(m, terms, c))
				return true;
		}
		return false;
	}
}

static void push_hit(struct scratch *s, unsigned term, const struct seg *g, size_t start,
		     size_t end)
{
	s->hits = grow(s->hits, &s->cap_hits, s->n_hits + 1, sizeof(*s->hits));
	s->hits[s->n_hits++] = (struct match_hit){term, g->field, g->author, start, end};
}

/* Every match of the regular expression of term u, as hits of the rule's term `term`. */
static void rx_hits(struct matcher *m, unsigned term, uint32_t u)
{
	struct scratch *s = &m->s;
	const struct cterm *t = &m->terms[u];
	unsigned fields = rx_fields(m, t);

	for (size_t i = 0; i < s->n_segs; i++) {
		const struct seg *g = &s->segs[i];
		size_t from = 0, a, b;

		if (!(fields & QUERY_FIELD(g->field)))
			continue;
		while (rx_find(t->rx, g->s, g->n, from, &a, &b)) {
			push_hit(s, term, g, a, b);
			from = b;
		}
	}
}

/* The hits of rule r's positive terms, into s->hits. */
static void explain_rule(struct matcher *m, const struct rule *r)
{
	struct scratch *s = &m->s;

	s->n_hits = 0;
	for (unsigned k = 0; k < r->n_terms; k++) {
		uint32_t u = m->rule_terms[r->terms + k];

		if (m->term_neg[r->terms + k])
			continue;
		if (m->terms[u].kind == QUERY_REGEX) {
			if (rx_value(m, u))
				rx_hits(m, k, u);
			continue;
		}
		if (s->hit[u] != s->gen)
			continue;
		for (uint32_t o = s->occ_first[u]; o != NONE; o = s->occs[o].next) {
			const struct text_word *first = &s->tw.w[s->occs[o].first];
			const struct text_word *last = &s->tw.w[s->occs[o].last];

			push_hit(s, k, &s->segs[first->seg], first->start, last->end);
		}
	}
}

size_t matcher_match(struct matcher *m, const struct paper *p, bool explain, match_fn fn, void *ctx)
{
	struct scratch *s = &m->s;
	size_t count = 0;

	if (!m->compiled)
		matcher_compile(m);
	paper_begin(m, explain);
	cut_paper(m, p);
	scan_words(m);
	confirm_phrases(m);
	if (m->n_lits > 0)
		scan_literals(m);
	/* Candidates and the always-evaluated rules, in rule order; candidates are cleared on the
	 * way, ready for the next paper. */
	for (size_t w = 0; w < m->n_rule_words; w++) {
		uint64_t bits = s->cand[w] | m->always[w];

		s->cand[w] = 0;
		for (; bits != 0; bits &= bits - 1) {
			uint32_t r = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
			const struct rule *rule = &m->rules[r];

			if (!eval(m, m->rule_terms + rule->terms, m->nodes + rule->nodes))
				continue;
			count++;
			if (explain)
				explain_rule(m, rule);
			if (fn != NULL)
				fn(ctx, r, explain ? s->hits : NULL, explain ? s->n_hits : 0);
		}
	}
	return count;
}
