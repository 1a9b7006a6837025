/*
 * match/match.c — all rules compiled together. Terms that several rules share are compiled once;
 * every key (a word, the anchor word of a phrase, a prefix, an id) goes into one dictionary whose
 * postings name the terms it stands for (dict.h). A paper is cut into words once and each word
 * looked up: as it is, without a plural ending, and at the prefix lengths prefix keys have, most
 * of these answered by a bit filter. Only rules that had a term hit are then evaluated in full,
 * beside the few that could match without any (pure negations, and regular expressions with no
 * literal text to look for, litscan.h). With few keys, a sieve looks for them in the raw bytes
 * first, and most papers of plain ASCII text skip the cutting and the lookups altogether.
 */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SIEVE_AVX2 1
#else
#define SIEVE_AVX2 0
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "hmap.h"
#include "litscan.h"
#include "match.h"
#include "query.h"
#include "rx.h"
#include "text.h"
#include "xmalloc.h"

#define NONE UINT32_MAX
/* Keys the sieve holds at most: a bit each of a byte (sieve_build). */
#define SIEVE_MAX 8
/* How many of a key's first bytes the sieve looks for at once, before comparing the whole key. */
#define SIEVE_SPAN 3

/* What term_rx says of a term that is not looked up in the dictionary. */
#define TERM_RX   1
#define TERM_LIKE 2

/* A term as compiled, shared by every rule that has it. */
struct cterm {
	enum query_kind kind;
	unsigned fields;
	bool prefix;
	uint32_t n_words, anchor; /* QUERY_WORDS: the word the dictionary holds for a phrase */
	struct query_word *words;
	const char *id; /* QUERY_ID; QUERY_LIKE: the library's name */
	size_t id_len;
	struct rx *rx; /* QUERY_REGEX, owned */
	uint32_t lit;  /* QUERY_REGEX: its literal in lits[], or NONE */
};

/* What matching touches for a term that hits, kept together in one small array. */
struct term_hot {
	uint32_t hit;     /* == the paper's number when the term hit it */
	uint32_t n_rules; /* the rules that have the term: */
	uint32_t rules;   /* the rule itself when there is one, else term_rules[rules ...] */
};

struct rule {
	uint32_t nodes, n_nodes; /* in m->nodes */
	uint32_t terms, n_terms; /* in m->rule_terms, m->term_texts, m->term_neg */
};

/* A string of the paper being matched. */
struct seg {
	enum match_field field;
	unsigned author;
	const char *s;
	size_t n;
	uint32_t mirror; /* its mirror in the folded text (text.h), when it was cut */
	bool to_ascii;   /* it holds a character folded to an ASCII letter (text.h) */
};

/* Where a term hit: words first..last, and the next hit of the same term. */
struct occ {
	uint32_t first, last, next;
};

/* The hashes a word is looked up by: as it is, and without a plural ending when it has one. */
struct word_hashes {
	uint32_t whole, less_s, less_es;
	uint32_t forms; /* FORM_* */
};

#define FORM_LESS_S  1u /* it ends in s */
#define FORM_LESS_ES 2u /* it ends in es after a word that takes es */

/* Everything one paper needs, kept from paper to paper; per-term marks hold the number of the
 * paper (gen) they are about, so nothing is cleared between papers. */
struct scratch {
	uint32_t gen;
	bool explain;
	uint32_t rule;                  /* the rule being evaluated, for like: terms */
	const struct paper *paper;      /* the paper being matched */
	uint32_t *occ_first, *occ_last; /* per term that hit: its hits, when explaining */
	uint32_t *rx_gen;               /* per term: == gen when rx_val says whether it matched */
	bool *rx_val;
	uint32_t *lit_gen; /* per literal: == gen when seen, in the fields lit_fields says */
	uint8_t *lit_fields;
	uint32_t *lits_seen;
	size_t n_lits_seen;
	uint64_t *cand;     /* per rule: has a term that hit, so it must be evaluated */
	uint64_t *cand_any; /* per word of cand: whether it has a bit set */
	struct text_words tw;
	struct seg *segs;
	size_t n_segs, cap_segs;
	struct word_hashes *hashes; /* per word */
	size_t cap_hashes;
	struct occ *occs;
	size_t n_occs, cap_occs;
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
	struct dict dict;
	struct term_hot *hot; /* per term */
	uint32_t *term_rules;
	uint8_t *term_rx; /* per term: TERM_RX or TERM_LIKE, evaluated lazily; else 0 */
	match_like_fn like_fn;
	void *like_ctx;
	uint64_t *simple; /* per rule: a term, or an OR of terms, no regex: matched when touched */
	struct litscan *lits;
	uint32_t *lit_terms; /* the term of each literal */
	size_t n_lits;
	unsigned lit_fields; /* fields some literal is looked for in */
	/* The keys that can be in ASCII text, when there are few enough (sieve_build): a paper of
	 * ASCII text that has none of them, in either case, can hit no key, and is neither cut into
	 * words nor looked up. */
	bool sieve_on;
	size_t n_sieve;
	const struct dict_slot *sieve[SIEVE_MAX];
	/* Bit k of sieve_lo[j][x] (sieve_hi[j][x]) is set when byte j of sieve[k], with 0x20 set,
	 * has x as its low (high) four bits, or when that key is shorter than j + 1 bytes. */
	unsigned char sieve_lo[SIEVE_SPAN][16], sieve_hi[SIEVE_SPAN][16];
	uint64_t *always;     /* per rule: evaluated for every paper */
	uint64_t *always_any; /* per word of always: whether it has a bit set */
	size_t n_rule_words;  /* 64-bit words in always and cand */
	size_t n_any_words;   /* and in always_any and cand_any */
	struct scratch s;
};

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

bool matcher_has_regex(const struct matcher *m)
{
	for (size_t u = 0; u < m->n_terms; u++) {
		if (m->terms[u].kind == QUERY_REGEX)
			return true;
	}
	return false;
}

int matcher_jit_probe(char *why, size_t why_size)
{
	return rx_jit_probe(why, why_size);
}

struct matcher *matcher_new(void)
{
	struct matcher *m = xcalloc(1, sizeof(*m));

	arena_init(&m->arena);
	hmap_init(&m->term_index);
	dict_init(&m->dict);
	text_words_init(&m->s.tw);
	return m;
}

/* Frees what matcher_compile built, so that it can build again. */
static void compiled_free(struct matcher *m)
{
	struct scratch *s = &m->s;

	dict_free(&m->dict);
	free(m->term_rules);
	free(m->hot);
	free(m->term_rx);
	free(m->simple);
	litscan_free(m->lits);
	free(m->lit_terms);
	free(m->always);
	free(m->always_any);
	free(s->occ_first);
	free(s->occ_last);
	free(s->rx_gen);
	free(s->rx_val);
	free(s->lit_gen);
	free(s->lit_fields);
	free(s->lits_seen);
	free(s->cand);
	free(s->cand_any);
	m->term_rules = NULL;
	m->hot = NULL;
	m->term_rx = NULL;
	m->simple = m->always = m->always_any = NULL;
	m->lits = NULL;
	m->lit_terms = NULL;
	m->n_lits = 0;
	s->occ_first = s->occ_last = s->rx_gen = s->lit_gen = s->lits_seen = NULL;
	s->rx_val = NULL;
	s->lit_fields = NULL;
	s->cand = s->cand_any = NULL;
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
	free(m->s.hashes);
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

/* What the subtree at n can be, its terms searching field f alone taken as false and every
 * other term as free: *can_true and *can_false. Terms shared between branches are taken as
 * independent, so "cannot be true" is never said of a rule that can be. Returns the node after
 * the subtree. */
static const struct query_node *can_be(const struct matcher *m, const struct rule *r,
				       const struct query_node *n, enum match_field f,
				       bool *can_true, bool *can_false)
{
	const struct query_node *c = n + 1;
	bool t, fl;

	switch (n->op) {
	case QUERY_TERM:
		*can_true = m->terms[m->rule_terms[r->terms + n->arg]].fields != (1u << f);
		*can_false = true;
		return c;
	case QUERY_NOT:
		c = can_be(m, r, c, f, can_false, can_true);
		return c;
	case QUERY_AND:
	case QUERY_OR:
		*can_true = n->op == QUERY_AND;
		*can_false = n->op == QUERY_OR;
		for (unsigned i = 0; i < n->arg; i++) {
			c = can_be(m, r, c, f, &t, &fl);
			if (n->op == QUERY_AND) {
				*can_true &= t;
				*can_false |= fl;
			} else {
				*can_true |= t;
				*can_false &= fl;
			}
		}
		return c;
	}
	return c;
}

bool matcher_needs_field(const struct matcher *m, unsigned rule, enum match_field f)
{
	bool can_true = true, can_false = true;

	if (rule >= m->n_rules)
		return false;
	can_be(m, &m->rules[rule], m->nodes + m->rules[rule].nodes, f, &can_true, &can_false);
	return !can_true;
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
	m->terms = xgrow(m->terms, &m->cap_terms, m->n_terms + 1, sizeof(*m->terms));
	c = &m->terms[m->n_terms++];
	*c = (struct cterm){.kind = t->kind,
			    .fields = t->fields,
			    .prefix = t->prefix,
			    .n_words = (uint32_t)t->n_words,
			    .rx = t->rx,
			    .lit = NONE};
	t->rx = NULL;
	if (t->kind == QUERY_ID || t->kind == QUERY_LIKE)
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
	m->rules = xgrow(m->rules, &m->cap_rules, m->n_rules + 1, sizeof(*m->rules));
	r = &m->rules[m->n_rules];
	*r = (struct rule){(uint32_t)m->n_nodes, (uint32_t)q.n_nodes, (uint32_t)m->n_rule_terms,
			   (uint32_t)q.n_terms};
	m->nodes = xgrow(m->nodes, &m->cap_nodes, m->n_nodes + q.n_nodes, sizeof(*m->nodes));
	memcpy(m->nodes + m->n_nodes, q.nodes, q.n_nodes * sizeof(*q.nodes));
	m->n_nodes += q.n_nodes;
	m->rule_terms = xgrow(m->rule_terms, &m->cap_rule_terms, m->n_rule_terms + q.n_terms,
			      sizeof(*m->rule_terms));
	m->term_texts = xreallocarray(m->term_texts, m->cap_rule_terms, sizeof(*m->term_texts));
	m->term_neg = xreallocarray(m->term_neg, m->cap_rule_terms, sizeof(*m->term_neg));
	m->pairs = xgrow(m->pairs, &m->cap_pairs, m->n_pairs + 2 * q.n_terms, sizeof(*m->pairs));
	for (size_t i = 0; i < q.n_terms; i++) {
		uint32_t u = intern_term(m, &q.terms[i]);

		m->rule_terms[m->n_rule_terms] = u;
		m->term_texts[m->n_rule_terms] =
			arena_strndup(&m->arena, q.terms[i].text, strlen(q.terms[i].text));
		m->term_neg[m->n_rule_terms++] = q.terms[i].negative;
		m->pairs[m->n_pairs++] = u;
		m->pairs[m->n_pairs++] = (uint32_t)m->n_rules;
	}
	/* The tree names compiled terms from now on, so evaluation needs no detour. */
	for (uint32_t k = r->nodes; k < r->nodes + r->n_nodes; k++) {
		if (m->nodes[k].op == QUERY_TERM)
			m->nodes[k].arg = m->rule_terms[r->terms + m->nodes[k].arg];
	}
	query_free(&q);
	m->compiled = false;
	return (int)m->n_rules++;
}

/* ---- Compiling ---- */

/* Scratch for building keys with a plural ending. */
struct build {
	char *buf;
	size_t cap_buf;
};

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

/* The fingerprint of a phrase's word, read through a copy with the padding dict_hash wants. */
static uint16_t word_fingerprint(struct build *b, const struct query_word *w)
{
	b->buf = xgrow(b->buf, &b->cap_buf, w->len + 8, 1);
	memcpy(b->buf, w->s, w->len);
	memset(b->buf + w->len, 0, 8);
	return dict_fingerprint(dict_hash(b->buf, w->len));
}

static void add_term_keys(struct matcher *m, struct build *b, uint32_t u)
{
	struct cterm *t = &m->terms[u];
	struct dict_posting p = {u, (uint8_t)t->fields, 0, 0};

	if (t->kind == QUERY_ID) {
		dict_add(&m->dict, t->id, t->id_len, t->prefix, p);
	} else if (t->kind == QUERY_WORDS && t->n_words == 1) {
		if (t->prefix)
			dict_add(&m->dict, t->words[0].s, t->words[0].len, true, p);
		else
			dict_add(&m->dict, t->words[0].s, t->words[0].len, false, p);
	} else if (t->kind == QUERY_WORDS) {
		/* A neighbour that is a prefix has no one hash: its first bytes stand for it. */
		uint32_t next;

		t->anchor = phrase_anchor(t);
		next = t->anchor + 1 < t->n_words ? t->anchor + 1 : t->anchor - 1;
		p.anchor = (uint8_t)t->anchor;
		p.fields |= DICT_PHRASE;
		if (t->prefix && next + 1 == t->n_words) {
			if (t->words[next].len >= 2) {
				p.fields |= DICT_START;
				memcpy(&p.neighbour, t->words[next].s, 2);
			}
		} else {
			p.fields |= DICT_NEIGHBOUR | (next < t->anchor ? DICT_BEFORE : 0);
			p.neighbour = word_fingerprint(b, &t->words[next]);
		}
		dict_add(&m->dict, t->words[t->anchor].s, t->words[t->anchor].len, false, p);
	}
}

/* How likely a term is to hit a paper, roughly, for choosing what wakes a rule: a phrase or an
 * id least, then a word, a regular expression, a prefix. */
static unsigned trigger_cost(const struct cterm *t)
{
	if (t->kind == QUERY_ID || (t->kind == QUERY_WORDS && t->n_words > 1))
		return 1;
	if (t->kind == QUERY_REGEX)
		return 3;
	if (t->kind == QUERY_LIKE)
		return 50; /* it never hits in the dictionary: any other term wakes its rule */
	if (t->prefix)
		return t->words[0].len < DICT_HEAD ? 6 : 4;
	return t->words[0].len < DICT_HEAD ? 3 : 2;
}

#define NO_TRIGGER UINT32_MAX

/* The cost of the terms of the subtree at n one of which must hit for it to hold (the cheapest
 * child of an AND, every child of an OR), or NO_TRIGGER when it can hold with none: under a
 * negation. */
static uint32_t subtree_cost(const struct matcher *m, const struct query_node *n)
{
	const struct query_node *c = n + 1;
	uint32_t best = NO_TRIGGER, sum = 0;

	switch (n->op) {
	case QUERY_TERM:
		return trigger_cost(&m->terms[n->arg]);
	case QUERY_NOT:
		return NO_TRIGGER;
	case QUERY_AND:
		for (unsigned i = 0; i < n->arg; i++, c += c->size) {
			uint32_t k = subtree_cost(m, c);

			best = k < best ? k : best;
		}
		return best;
	default:
		for (unsigned i = 0; i < n->arg; i++, c += c->size) {
			uint32_t k = subtree_cost(m, c);

			if (k == NO_TRIGGER)
				return NO_TRIGGER;
			sum += k;
		}
		return sum;
	}
}

/* Appends (term, rule r) to pairs for the terms subtree_cost() counted, those that wake r. */
static void add_triggers(const struct matcher *m, const struct query_node *n, uint32_t r,
			 uint32_t *pairs, size_t *n_pairs)
{
	const struct query_node *c = n + 1, *best = NULL;
	uint32_t best_cost = NO_TRIGGER;

	if (n->op == QUERY_TERM) {
		pairs[(*n_pairs)++] = n->arg;
		pairs[(*n_pairs)++] = r;
		return;
	}
	for (unsigned i = 0; i < n->arg; i++, c += c->size) {
		uint32_t k = subtree_cost(m, c);

		if (n->op == QUERY_OR) {
			add_triggers(m, c, r, pairs, n_pairs);
		} else if (k < best_cost) {
			best = c;
			best_cost = k;
		}
	}
	if (best != NULL)
		add_triggers(m, best, r, pairs, n_pairs);
}

/* The (term, rule) pairs by which a term hit wakes a rule, in rule order. A rule is woken only
 * by terms one of which must hit for it to hold, not by a term it excludes (-survey) nor by
 * the commoner side of an AND; a rule that can hold with none is evaluated for every paper
 * anyway (classify_rules), and wakes by all its terms. Returns the count of uint32_t. */
static size_t wake_pairs(const struct matcher *m, uint32_t *pairs)
{
	size_t n = 0;

	for (uint32_t r = 0; r < m->n_rules; r++) {
		const struct rule *rule = &m->rules[r];
		const struct query_node *root = m->nodes + rule->nodes;

		if (subtree_cost(m, root) != NO_TRIGGER) {
			add_triggers(m, root, r, pairs, &n);
			continue;
		}
		for (uint32_t k = 0; k < rule->n_terms; k++) {
			pairs[n++] = m->rule_terms[rule->terms + k];
			pairs[n++] = r;
		}
	}
	return n;
}

/* Lists, for each term, the rules it wakes (each once), from wake_pairs(); pairs come in rule
 * order, so a rule naming a term twice is noticed. */
static void link_term_rules(struct matcher *m)
{
	uint32_t *last = xreallocarray(NULL, m->n_terms + 1, sizeof(*last)), at = 0;
	uint32_t *pairs = xreallocarray(NULL, m->n_pairs + 2, sizeof(*pairs));
	size_t n_pairs = wake_pairs(m, pairs);

	m->term_rules = xreallocarray(NULL, n_pairs / 2 + 1, sizeof(*m->term_rules));
	m->hot = xcalloc(m->n_terms + 1, sizeof(*m->hot));
	memset(last, 0xff, (m->n_terms + 1) * sizeof(*last));
	for (size_t i = 0; i < n_pairs; i += 2) {
		uint32_t u = pairs[i], rule = pairs[i + 1];

		if (last[u] != rule)
			m->hot[u].n_rules++;
		last[u] = rule;
	}
	for (size_t u = 0; u < m->n_terms; u++) {
		m->hot[u].rules = at;
		at += m->hot[u].n_rules;
		m->hot[u].n_rules = 0;
	}
	memset(last, 0xff, (m->n_terms + 1) * sizeof(*last));
	for (size_t i = 0; i < n_pairs; i += 2) {
		uint32_t u = pairs[i], rule = pairs[i + 1];

		if (last[u] != rule)
			m->term_rules[m->hot[u].rules + m->hot[u].n_rules++] = rule;
		last[u] = rule;
	}
	/* A term of one rule, the usual case, names it without a detour through term_rules. */
	for (size_t u = 0; u < m->n_terms; u++) {
		if (m->hot[u].n_rules == 1)
			m->hot[u].rules = m->term_rules[m->hot[u].rules];
	}
	free(pairs);
	free(last);
}

/* Gives the regular expressions that have a literal to the literal scanner. */
static void index_literals(struct matcher *m)
{
	m->lits = litscan_new();
	m->lit_terms = xreallocarray(NULL, m->n_terms + 1, sizeof(*m->lit_terms));
	m->lit_fields = 0;
	for (uint32_t u = 0; u < m->n_terms; u++) {
		struct cterm *t = &m->terms[u];
		const char *s;
		size_t len;

		if (t->kind != QUERY_REGEX || (s = rx_literal(t->rx, &len)) == NULL)
			continue;
		t->lit = litscan_add(m->lits, s, len);
		m->lit_terms[t->lit] = u;
		m->n_lits++;
		m->lit_fields |= t->fields;
	}
	litscan_build(m->lits);
}

/* Kleene's three values, for whether a rule can match with no term seen. */
enum tri { TRI_NO, TRI_MAYBE, TRI_YES };

/* The value of the subtree at n when no term was seen in the paper: every term is false, but
 * a regular expression without a literal may still match anything. */
static enum tri unseen_value(const struct matcher *m, const struct query_node *n)
{
	const struct query_node *c = n + 1;
	enum tri v;

	switch (n->op) {
	case QUERY_TERM: {
		const struct cterm *t = &m->terms[n->arg];

		return (t->kind == QUERY_REGEX && t->lit == NONE) || t->kind == QUERY_LIKE
			       ? TRI_MAYBE
			       : TRI_NO;
	}
	case QUERY_NOT:
		return (enum tri)(TRI_YES - unseen_value(m, c));
	case QUERY_AND:
		v = TRI_YES;
		for (unsigned i = 0; i < n->arg; i++, c += c->size) {
			enum tri k = unseen_value(m, c);

			v = k < v ? k : v;
		}
		return v;
	default:
		v = TRI_NO;
		for (unsigned i = 0; i < n->arg; i++, c += c->size) {
			enum tri k = unseen_value(m, c);

			v = k > v ? k : v;
		}
		return v;
	}
}

/* Whether this processor runs the sieve's scan (sieve_may_hit). */
static bool sieve_supported(void)
{
#if SIEVE_AVX2
	return __builtin_cpu_supports("avx2");
#else
	return false;
#endif
}

/* Enters key e as the sieve's next, in the tables of its first bytes. */
static void sieve_add(struct matcher *m, const struct dict_slot *e)
{
	const unsigned char *k = (const unsigned char *)e->key;
	unsigned char bit = (unsigned char)(1u << m->n_sieve);

	for (size_t j = 0; j < SIEVE_SPAN; j++) {
		unsigned c;

		if (j >= e->len) {
			for (size_t x = 0; x < 16; x++) {
				m->sieve_lo[j][x] |= bit;
				m->sieve_hi[j][x] |= bit;
			}
			continue;
		}
		c = k[j] | 0x20u;
		m->sieve_lo[j][c & 0x0f] |= bit;
		m->sieve_hi[j][c >> 4] |= bit;
	}
	m->sieve[m->n_sieve++] = e;
}

/* Finds what the sieve holds, or leaves it off. A key hits a word that starts with it (the word
 * itself, the word with a plural ending, a longer word for a prefix), and the folded bytes of an
 * ASCII string are its own, lower-cased: a key can hit it only where its bytes are, in either
 * case. A key that does not start with two ASCII bytes cannot hit ASCII text at all. Off with a
 * key of one byte, too many keys, or literals of regular expressions, which are looked for in
 * the folded text; and on a processor without the vector instructions the scan is made of. */
static void sieve_build(struct matcher *m)
{
	const struct dict *d = &m->dict;

	m->sieve_on = false;
	m->n_sieve = 0;
	memset(m->sieve_lo, 0, sizeof(m->sieve_lo));
	memset(m->sieve_hi, 0, sizeof(m->sieve_hi));
	if (m->n_lits > 0 || d->n_keys == 0 || d->n_keys > SIEVE_MAX || !sieve_supported())
		return;
	for (size_t i = 0; i <= d->mask; i++) {
		const struct dict_slot *e = &d->slots[i];
		const unsigned char *k = (const unsigned char *)e->key;

		if (e->len == 0)
			continue;
		if (e->len < 2)
			return;
		if (k[0] < 0x80 && k[1] < 0x80)
			sieve_add(m, e);
	}
	m->sieve_on = true;
}

/* Sizes the per-paper scratch for the terms, literals and rules there are now. */
static void scratch_size(struct matcher *m)
{
	struct scratch *s = &m->s;
	size_t t = m->n_terms + 1, l = m->n_lits + 1;

	s->gen = 0;
	s->occ_first = xcalloc(t, sizeof(*s->occ_first));
	s->occ_last = xcalloc(t, sizeof(*s->occ_last));
	s->rx_gen = xcalloc(t, sizeof(*s->rx_gen));
	s->rx_val = xcalloc(t, sizeof(*s->rx_val));
	s->lit_gen = xcalloc(l, sizeof(*s->lit_gen));
	s->lit_fields = xcalloc(l, sizeof(*s->lit_fields));
	s->lits_seen = xcalloc(l, sizeof(*s->lits_seen));
	s->cand = xcalloc(m->n_rule_words, sizeof(*s->cand));
	s->cand_any = xcalloc(m->n_any_words, sizeof(*s->cand_any));
}

/* Whether the rule at root holds as soon as it is woken: a term, or an OR of terms, none a
 * regular expression (which wakes its rule when its literal is seen, before it is run). */
static bool holds_when_woken(const struct matcher *m, const struct query_node *root)
{
	if (root->op == QUERY_TERM)
		return !m->term_rx[root->arg];
	if (root->op != QUERY_OR)
		return false;
	for (unsigned i = 1; i <= root->arg; i++) {
		if (root[i].op != QUERY_TERM || m->term_rx[root[i].arg])
			return false;
	}
	return true;
}

/* Marks the rules matched as soon as they are woken, and those evaluated for every paper. */
static void classify_rules(struct matcher *m)
{
	m->n_rule_words = (m->n_rules + 63) / 64 + 1;
	m->n_any_words = (m->n_rule_words + 63) / 64;
	m->always = xcalloc(m->n_rule_words, sizeof(*m->always));
	m->always_any = xcalloc(m->n_any_words, sizeof(*m->always_any));
	m->simple = xcalloc(m->n_rule_words, sizeof(*m->simple));
	for (uint32_t r = 0; r < m->n_rules; r++) {
		const struct rule *rule = &m->rules[r];
		const struct query_node *root = m->nodes + rule->nodes;

		if (unseen_value(m, root) != TRI_NO) {
			bit_set(m->always, r);
			bit_set(m->always_any, r >> 6);
		} else if (holds_when_woken(m, root)) {
			bit_set(m->simple, r);
		}
	}
}

void matcher_compile(struct matcher *m)
{
	struct build b = {0};

	compiled_free(m);
	dict_init(&m->dict);
	m->term_rx = xcalloc(m->n_terms + 1, 1);
	for (uint32_t u = 0; u < m->n_terms; u++) {
		m->term_rx[u] = m->terms[u].kind == QUERY_REGEX  ? TERM_RX
				: m->terms[u].kind == QUERY_LIKE ? TERM_LIKE
								 : 0;
		add_term_keys(m, &b, u);
	}
	dict_build(&m->dict);
	link_term_rules(m);
	index_literals(m);
	sieve_build(m);
	classify_rules(m);
	scratch_size(m);
	free(b.buf);
	m->compiled = true;
}

void matcher_set_like(struct matcher *m, match_like_fn fn, void *ctx)
{
	m->like_fn = fn;
	m->like_ctx = ctx;
}

const char *matcher_like_name(const struct matcher *m, unsigned rule, size_t i)
{
	const struct rule *r;

	if (rule >= m->n_rules)
		return NULL;
	r = &m->rules[rule];
	for (uint32_t k = 0; k < r->n_terms; k++) {
		const struct cterm *t = &m->terms[m->rule_terms[r->terms + k]];

		if (t->kind == QUERY_LIKE && i-- == 0)
			return t->id;
	}
	return NULL;
}

/* ---- Matching one paper ---- */

/* Starts a new paper: a new number for the marks, nothing carried over. */
static void paper_begin(struct matcher *m, bool explain)
{
	struct scratch *s = &m->s;

	if (++s->gen == 0) {
		/* After four billion papers the numbers come round again. */
		for (size_t u = 0; u < m->n_terms; u++)
			m->hot[u].hit = 0;
		memset(s->rx_gen, 0, (m->n_terms + 1) * sizeof(*s->rx_gen));
		memset(s->lit_gen, 0, (m->n_lits + 1) * sizeof(*s->lit_gen));
		s->gen = 1;
	}
	s->explain = explain;
	s->n_segs = s->n_occs = s->n_lits_seen = 0;
	text_words_clear(&s->tw);
}

/* Adds a string of the paper. */
static void add_seg(struct matcher *m, enum match_field f, unsigned author, const char *str)
{
	struct scratch *s = &m->s;

	s->segs = xgrow(s->segs, &s->cap_segs, s->n_segs + 1, sizeof(*s->segs));
	s->segs[s->n_segs++] = (struct seg){f, author, str, strlen(str), 0, false};
}

static void add_segs(struct matcher *m, const struct paper *p)
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

#if SIEVE_AVX2
/* Whether key e is at s[at..n), bytes compared with 0x20 set on both sides: that makes a capital
 * letter its small one, and a byte beyond ASCII no byte of ASCII. */
static bool sieve_key_at(const struct dict_slot *e, const unsigned char *s, size_t n, size_t at)
{
	const unsigned char *k = (const unsigned char *)e->key;

	if (n - at < e->len)
		return false;
	for (size_t j = 0; j < e->len; j++) {
		if ((s[at + j] | 0x20) != (k[j] | 0x20))
			return false;
	}
	return true;
}

/* Whether a key of the sieve that `keys` has a bit for is at s[at..n). */
static bool sieve_keys_at(const struct matcher *m, unsigned keys, const unsigned char *s, size_t n,
			  size_t at)
{
	for (; keys != 0; keys &= keys - 1) {
		if (sieve_key_at(m->sieve[__builtin_ctz(keys)], s, n, at))
			return true;
	}
	return false;
}

/* Whether s[0..n) is not all ASCII or holds a key of the sieve. It looks at 32 positions at a
 * time: the keys whose first SIEVE_SPAN bytes may be at each come from two table lookups per
 * byte (of its low and of its high four bits, a bit per key), ANDed over the bytes; only those
 * keys are compared in full. The last positions are looked at in a copy padded with zeros,
 * which fold to spaces, and no key has a space. */
__attribute__((target("avx2"))) static bool sieve_may_hit(const struct matcher *m, const char *str,
							  size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	const __m256i fold = _mm256_set1_epi8(0x20), nibble = _mm256_set1_epi8(0x0f);
	__m256i lo[SIEVE_SPAN], hi[SIEVE_SPAN];
	unsigned char pad[32 + SIEVE_SPAN - 1];

	for (size_t j = 0; j < SIEVE_SPAN; j++) {
		lo[j] = _mm256_broadcastsi128_si256(
			_mm_loadu_si128((const __m128i *)(const void *)m->sieve_lo[j]));
		hi[j] = _mm256_broadcastsi128_si256(
			_mm_loadu_si128((const __m128i *)(const void *)m->sieve_hi[j]));
	}
	for (size_t i = 0; i < n; i += 32) {
		const unsigned char *b = s + i; /* positions i..i+31, with the bytes after them */
		unsigned at = UINT32_MAX;       /* which of them are in s */
		__m256i x, keys = _mm256_set1_epi8(-1);
		unsigned char at_keys[32];

		if (n - i < sizeof(pad)) {
			memset(pad, 0, sizeof(pad));
			memcpy(pad, b, n - i);
			b = pad;
			if (n - i < 32)
				at = (1u << (n - i)) - 1;
		}
		/* Bytes i+32 and on are checked for ASCII by the next round. */
		x = _mm256_loadu_si256((const __m256i *)(const void *)b);
		if (_mm256_movemask_epi8(x) != 0)
			return true;
		for (size_t j = 0; j < SIEVE_SPAN; j++) {
			__m256i y =
				j == 0 ? x
				       : _mm256_loadu_si256((const __m256i *)(const void *)(b + j));
			__m256i low, high;

			y = _mm256_or_si256(y, fold);
			low = _mm256_shuffle_epi8(lo[j], _mm256_and_si256(y, nibble));
			high = _mm256_shuffle_epi8(
				hi[j], _mm256_and_si256(_mm256_srli_epi16(y, 4), nibble));
			keys = _mm256_and_si256(keys, _mm256_and_si256(low, high));
		}
		at &= ~(unsigned)_mm256_movemask_epi8(
			_mm256_cmpeq_epi8(keys, _mm256_setzero_si256()));
		if (at == 0)
			continue;
		_mm256_storeu_si256((__m256i *)(void *)at_keys, keys);
		for (; at != 0; at &= at - 1) {
			size_t p = (size_t)__builtin_ctz(at);

			if (sieve_keys_at(m, at_keys[p], s, n, i + p))
				return true;
		}
	}
	return false;
}
#else
static bool sieve_may_hit(const struct matcher *m, const char *str, size_t n)
{
	(void)m;
	(void)str;
	(void)n;
	return true; /* never asked: the sieve is on only where the scan above is built */
}
#endif

/* Cuts the paper's strings into words, when some term looks for words or literals: each string
 * the sieve does not rule out. One it rules out holds no word any key hits, and words never span
 * two strings (a phrase's are all in one), so what matches and its hits are the same as with
 * every string cut: only the cutting of an abstract without a key, say, is saved. */
static void cut_paper(struct matcher *m)
{
	struct scratch *s = &m->s;

	if (m->dict.n_keys == 0 && m->n_lits == 0)
		return;
	for (uint32_t i = 0; i < s->n_segs; i++) {
		struct seg *g = &s->segs[i];
		size_t before = s->tw.n_to_ascii;

		if (g->n == 0 || (m->sieve_on && !sieve_may_hit(m, g->s, g->n)))
			continue;
		if (g->field == MATCH_ID) {
			g->mirror = text_add_verbatim(&s->tw, g->s, g->n, i);
		} else {
			g->mirror = text_cut(&s->tw, g->s, g->n, i);
			g->to_ascii = s->tw.n_to_ascii != before;
		}
	}
}

/* Marks rule r for evaluation. */
static inline void touch_rule(struct scratch *s, uint32_t r)
{
	bit_set(s->cand, r);
	bit_set(s->cand_any, r >> 6);
}

/* Marks the rules that have term u for evaluation. */
static inline void touch_rules(struct matcher *m, uint32_t u)
{
	const struct term_hot *t = &m->hot[u];

	if (t->n_rules == 1) {
		touch_rule(&m->s, t->rules);
		return;
	}
	for (uint32_t i = 0; i < t->n_rules; i++)
		touch_rule(&m->s, m->term_rules[t->rules + i]);
}

/* Term u hit words first..last. */
static inline void term_hit(struct matcher *m, uint32_t u, uint32_t first, uint32_t last)
{
	struct scratch *s = &m->s;

	if (m->hot[u].hit != s->gen) {
		m->hot[u].hit = s->gen;
		s->occ_first[u] = NONE;
		touch_rules(m, u);
	}
	if (!s->explain)
		return;
	s->occs = xgrow(s->occs, &s->cap_occs, s->n_occs + 1, sizeof(*s->occs));
	s->occs[s->n_occs] = (struct occ){first, last, NONE};
	if (s->occ_first[u] == NONE)
		s->occ_first[u] = (uint32_t)s->n_occs;
	else
		s->occs[s->occ_last[u]].next = (uint32_t)s->n_occs;
	s->occ_last[u] = (uint32_t)s->n_occs++;
}

/* Whether the phrase t, its first word at word pos, is there: every word in place, all in
 * the same string. The word at the anchor is known to be there. */
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

/* Whether text word j may be the phrase word whose fingerprint is fp, by the word rule: the
 * word itself, or it less a plural ending. */
static bool neighbour_may_be(const struct matcher *m, uint32_t j, uint16_t fp)
{
	const struct word_hashes *h;

	if (j >= m->s.tw.n)
		return false;
	h = &m->s.hashes[j];
	return dict_fingerprint(h->whole) == fp ||
	       ((h->forms & FORM_LESS_S) && dict_fingerprint(h->less_s) == fp) ||
	       ((h->forms & FORM_LESS_ES) && dict_fingerprint(h->less_es) == fp);
}

/* Whether text word j may be the prefix whose first two bytes are those of start. */
static bool neighbour_starts(const struct matcher *m, uint32_t j, uint16_t start)
{
	const struct text_words *tw = &m->s.tw;

	return j < tw->n && tw->w[j].len >= 2 && memcmp(text_word_bytes(tw, j), &start, 2) == 0;
}

/* How a word met a key: the key is the word, the word less a plural ending, or a strict prefix
 * of the word. */
enum scan_how { SCAN_WHOLE, SCAN_EXACT, SCAN_PREFIX };

/* Word i met a dictionary key: acts on the postings that apply. Every word is cut and hashed
 * before any is looked up, so a phrase is confirmed on the spot, most often ruled out by the
 * fingerprint of its anchor's neighbour before its words are read. */
static void apply_slot(struct matcher *m, const struct dict_slot *e, enum scan_how how, uint32_t i,
		       unsigned fbit)
{
	const struct dict_posting *p = m->dict.postings + e->first;
	const struct dict_posting *end = p + e->n_exact + (how == SCAN_EXACT ? 0 : e->n_prefix);

	if (how == SCAN_PREFIX)
		p += e->n_exact;
	for (; p < end; p++) {
		const struct cterm *t;
		uint32_t pos;

		if (!(p->fields & fbit))
			continue;
		if (!(p->fields & DICT_PHRASE)) {
			term_hit(m, p->term, i, i);
			continue;
		}
		if (i < p->anchor)
			continue;
		pos = i - p->anchor;
		if ((p->fields & DICT_NEIGHBOUR) &&
		    !neighbour_may_be(m, (p->fields & DICT_BEFORE) ? i - 1 : i + 1, p->neighbour))
			continue;
		if ((p->fields & DICT_START) && !neighbour_starts(m, i + 1, p->neighbour))
			continue;
		t = &m->terms[p->term];
		if (phrase_at(m, t, pos))
			term_hit(m, p->term, pos, pos + t->n_words - 1);
	}
}

/* Hashes every word, and asks early for the table slot of each that may be a key: the lookups
 * that follow then wait for memory together rather than one after another. */
static void hash_words(struct matcher *m)
{
	struct scratch *s = &m->s;
	const struct text_words *tw = &s->tw;
	const struct dict *d = &m->dict;

	s->hashes = xgrow(s->hashes, &s->cap_hashes, tw->n, sizeof(*s->hashes));
	for (uint32_t i = 0; i < tw->n; i++) {
		const char *b = text_word_bytes(tw, i);
		uint32_t len = tw->w[i].len, h = dict_hash(b, len);
		struct word_hashes *wh = &s->hashes[i];

		wh->whole = h;
		wh->forms = 0;
		/* Asked for every word, key or not: a test of the filter here would be a branch
		 * taken at random, which costs more than a load of a line that is not needed. */
		__builtin_prefetch(&d->slots[h & d->mask]);
		if (len < 2 || b[len - 1] != 's' || (tw->w[i].flags & TEXT_WORD_NOSPACE))
			continue;
		wh->less_s = dict_hash(b, len - 1);
		wh->forms = FORM_LESS_S;
		if (len > 2 && b[len - 2] == 'e' && text_takes_es(b, len - 2)) {
			wh->less_es = dict_hash(b, len - 2);
			wh->forms |= FORM_LESS_ES;
		}
	}
}

/* Looks word i up without its plural ending ("agents" as "agent", "classes" as "class"), for the
 * word rule: the dictionary holds each word once, not its plurals, which keeps it small enough
 * to stay in the caches. The filter answers most of these lookups. */
static void scan_singular(struct matcher *m, uint32_t i, const char *b, unsigned fbit)
{
	const struct dict *d = &m->dict;
	const struct word_hashes *wh = &m->s.hashes[i];
	uint32_t len = m->s.tw.w[i].len;
	const struct dict_slot *e;

	if ((wh->forms & FORM_LESS_S) && dict_may_have(d->filter, wh->less_s) &&
	    (e = dict_find(d, b, len - 1, wh->less_s)) != NULL)
		apply_slot(m, e, SCAN_EXACT, i, fbit);
	if ((wh->forms & FORM_LESS_ES) && dict_may_have(d->filter, wh->less_es) &&
	    (e = dict_find(d, b, len - 2, wh->less_es)) != NULL)
		apply_slot(m, e, SCAN_EXACT, i, fbit);
}

/* Looks the strict prefixes of word i up: those shorter than DICT_HEAD by their lengths, the
 * longer all at once, as the group of prefix keys that start as the word does. */
static void scan_prefixes(struct matcher *m, uint32_t i, const char *b, uint32_t len, unsigned fbit)
{
	const struct dict *d = &m->dict;
	const struct dict_head *g;
	uint64_t head;
	uint32_t hh;

	for (size_t k = 0; k < d->n_pfx_lens && d->pfx_lens[k] < len; k++) {
		uint32_t n = d->pfx_lens[k], h = dict_hash(b, n);
		const struct dict_slot *e;

		if (dict_may_have(d->pfx_filter, h) && (e = dict_find(d, b, n, h)) != NULL)
			apply_slot(m, e, SCAN_PREFIX, i, fbit);
	}
	if (len <= DICT_HEAD)
		return;
	head = dict_start(b);
	hh = dict_head_hash(head);
	if (!dict_may_have(d->head_filter, hh) || (g = dict_find_head(d, head, hh)) == NULL)
		return;
	for (uint32_t k = g->first; k < g->first + g->n; k++) {
		const struct dict_slot *e = &d->slots[d->head_keys[k]];

		if (e->len >= len)
			return;
		if (dict_head(b, e->len) == e->head &&
		    (e->len <= 8 || memcmp(e->key + 8, b + 8, e->len - 8) == 0))
			apply_slot(m, e, SCAN_PREFIX, i, fbit);
	}
}

/* Looks every word up in the dictionary: as it is, without a plural ending, and its prefixes of
 * the lengths prefix keys have. */
static void scan_words(struct matcher *m)
{
	const struct text_words *tw = &m->s.tw;
	const struct dict *d = &m->dict;

	hash_words(m);
	for (uint32_t i = 0; i < tw->n; i++) {
		const struct text_word *w = &tw->w[i];
		const char *b = text_word_bytes(tw, i);
		unsigned fbit = QUERY_FIELD(m->s.segs[w->seg].field);
		const struct dict_slot *e;
		uint32_t h = m->s.hashes[i].whole;

		if (dict_may_have(d->filter, h) && (e = dict_find(d, b, w->len, h)) != NULL)
			apply_slot(m, e, SCAN_WHOLE, i, fbit);
		if (fbit != QUERY_FIELD(MATCH_ID))
			scan_singular(m, i, b, fbit);
		scan_prefixes(m, i, b, w->len, fbit);
	}
}

/* Where the literal scanner reports what it found, for the string of field fbit. */
struct lit_found {
	struct matcher *m;
	unsigned fbit;
};

static void literal_found(void *ctx, uint32_t l)
{
	struct lit_found *f = ctx;
	struct scratch *s = &f->m->s;

	if (s->lit_gen[l] != s->gen) {
		s->lit_gen[l] = s->gen;
		s->lit_fields[l] = 0;
		s->lits_seen[s->n_lits_seen++] = l;
	}
	s->lit_fields[l] |= (uint8_t)f->fbit;
}

/* Finds the literals of regular expressions in the paper, in the mirrors of its strings (ASCII
 * lower-cased, as the literals are); the rules of each regular expression whose literal is there
 * in a field it searches will be evaluated. */
static void scan_literals(struct matcher *m)
{
	struct scratch *s = &m->s;

	for (size_t i = 0; i < s->n_segs; i++) {
		struct lit_found f = {m, QUERY_FIELD(s->segs[i].field)};

		if (!(m->lit_fields & f.fbit) || s->segs[i].n == 0)
			continue;
		if (!s->segs[i].to_ascii) {
			litscan_find(m->lits, s->tw.fold + s->segs[i].mirror, s->segs[i].n,
				     literal_found, &f);
			continue;
		}
		/* A byte comparison could miss a caseless match here: every literal counts. */
		for (uint32_t l = 0; l < m->n_lits; l++)
			literal_found(&f, l);
	}
	for (size_t i = 0; i < s->n_lits_seen; i++) {
		uint32_t l = s->lits_seen[i], u = m->lit_terms[l];

		if (m->terms[u].fields & s->lit_fields[l])
			touch_rules(m, u);
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

static bool eval(struct matcher *m, const struct query_node *n)
{
	const struct query_node *c = n + 1;

	switch (n->op) {
	case QUERY_TERM: {
		uint32_t u = n->arg;

		if (m->term_rx[u] == TERM_LIKE)
			return m->like_fn != NULL &&
			       m->like_fn(m->like_ctx, m->s.rule, m->terms[u].id, m->s.paper);
		return m->term_rx[u] ? rx_value(m, u) : m->hot[u].hit == m->s.gen;
	}
	case QUERY_NOT:
		return !eval(m, c);
	case QUERY_AND:
		for (unsigned i = 0; i < n->arg; i++, c += c->size) {
			if (!eval(m, c))
				return false;
		}
		return true;
	default:
		for (unsigned i = 0; i < n->arg; i++, c += c->size) {
			if (eval(m, c))
				return true;
		}
		return false;
	}
}

static void push_hit(struct scratch *s, unsigned term, const struct seg *g, size_t start,
		     size_t end)
{
	s->hits = xgrow(s->hits, &s->cap_hits, s->n_hits + 1, sizeof(*s->hits));
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

		if (m->term_neg[r->terms + k] || m->term_rx[u] == TERM_LIKE)
			continue;
		if (m->term_rx[u]) {
			if (rx_value(m, u))
				rx_hits(m, k, u);
			continue;
		}
		if (m->hot[u].hit != s->gen)
			continue;
		for (uint32_t o = s->occ_first[u]; o != NONE; o = s->occs[o].next) {
			const struct text_word *first = &s->tw.w[s->occs[o].first];
			const struct text_word *last = &s->tw.w[s->occs[o].last];

			push_hit(s, k, &s->segs[first->seg], first->start, last->end);
		}
	}
}

/* Evaluates the rules of bits, those of the w-th word of rules, and reports each that matches;
 * returns how many did. */
static size_t match_word(struct matcher *m, size_t w, uint64_t bits, match_fn fn, void *ctx)
{
	struct scratch *s = &m->s;
	size_t count = 0;

	for (; bits != 0; bits &= bits - 1) {
		uint32_t r = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(bits));
		const struct rule *rule = &m->rules[r];

		s->rule = r;
		if (!bit_test(m->simple, r) && !eval(m, m->nodes + rule->nodes))
			continue;
		count++;
		if (s->explain)
			explain_rule(m, rule);
		if (fn != NULL)
			fn(ctx, r, s->explain ? s->hits : NULL, s->explain ? s->n_hits : 0);
	}
	return count;
}

size_t matcher_match(struct matcher *m, const struct paper *p, bool explain, match_fn fn, void *ctx)
{
	struct scratch *s = &m->s;
	size_t count = 0;

	if (!m->compiled)
		matcher_compile(m);
	paper_begin(m, explain);
	s->paper = p;
	add_segs(m, p);
	cut_paper(m);
	scan_words(m);
	if (m->n_lits > 0)
		scan_literals(m);
	/* Candidates and the always-evaluated rules, in rule order, found through the words of
	 * their bits that have any: a paper touches a few rules of thousands. Candidates are
	 * cleared on the way, ready for the next paper. */
	for (size_t a = 0; a < m->n_any_words; a++) {
		uint64_t words = s->cand_any[a] | m->always_any[a];

		s->cand_any[a] = 0;
		for (; words != 0; words &= words - 1) {
			size_t w = a * 64 + (size_t)__builtin_ctzll(words);

			count += match_word(m, w, s->cand[w] | m->always[w], fn, ctx);
			s->cand[w] = 0;
		}
	}
	return count;
}
