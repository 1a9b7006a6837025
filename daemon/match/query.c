/*
 * match/query.c — lexing and parsing interest-rule queries. A recursive-descent parser over a small
 * lexer; every refusal names the column it is about, since users fix rules by hand in a config
 * file. Term text is folded with text.c, exactly as paper text is.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "query.h"
#include "text.h"
#include "utf8.h"
#include "xmalloc.h"

enum tok_kind {
	TOK_END,
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_AND,
	TOK_OR,
	TOK_NOT,
	TOK_MINUS, /* '-' glued to the term it excludes */
	TOK_FIELD, /* "title:" */
	TOK_TERM,  /* a bare word, a "phrase" or a /regex/ */
};

struct token {
	enum tok_kind kind;
	size_t at, len; /* bytes of the query */
	enum match_field field;
};

/* A node of the tree while parsing, with its children as a list; flattened at the end. */
struct pnode {
	enum query_op op;
	unsigned term;
	int first, last, next; /* children and the next sibling; -1 for none */
	bool has_regex;
};

struct parser {
	const char *src;
	size_t len, pos;        /* pos: where the lexer goes on after tok */
	struct token tok, prev; /* prev: the token before tok */
	struct query *q;
	struct query_error *qe;
	unsigned depth;
	struct pnode *nodes;
	size_t n_nodes, cap_nodes, cap_terms;
	struct text_words tw; /* scratch for folding term text */
};

static const char *const field_names[] = {"title", "author", "abstract", "id"};

/* The 1-based column, in characters, of byte `at` of the query. */
static unsigned column_of(const char *s, size_t at)
{
	unsigned col = 1;

	for (size_t i = 0; i < at; i++)
		col += ((unsigned char)s[i] & 0xc0) != 0x80;
	return col;
}

static int fail(struct parser *p, size_t at, const char *fmt, ...) PW_PRINTF(3, 4);

static int fail(struct parser *p, size_t at, const char *fmt, ...)
{
	va_list ap;

	p->qe->column = column_of(p->src, at);
	va_start(ap, fmt);
	vsnprintf(p->qe->msg, sizeof(p->qe->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* What a token is called in messages. */
static const char *tok_name(const struct parser *p, const struct token *t, char *buf, size_t n)
{
	switch (t->kind) {
	case TOK_END:
		return "the end";
	case TOK_LPAREN:
		return "'('";
	case TOK_RPAREN:
		return "')'";
	case TOK_MINUS:
		return "'-'";
	default:
		snprintf(buf, n, "%.*s", (int)utf8_cut(p->src + t->at, t->len, 40), p->src + t->at);
		return buf;
	}
}

/* Reads a "phrase" or /regex/ starting at s[i]. */
static int lex_quoted(struct parser *p, size_t i)
{
	const char *s = p->src;
	char delim = s[i];
	size_t j = i + 1;

	while (j < p->len && s[j] != delim)
		j += delim == '/' && s[j] == '\\' && j + 1 < p->len ? 2 : 1;
	if (j >= p->len)
		return fail(p, i,
			    delim == '"'
				    ? "unterminated phrase: this '\"' is never closed"
				    : "unterminated regular expression: this '/' is never closed");
	j++;
	if (j < p->len && !is_space(s[j]) && s[j] != ')' && s[j] != '(')
		return fail(p, j,
			    delim == '"'
				    ? "put a space between a phrase and what follows it"
				    : "put a space between a regular expression and what follows "
				      "it (no flags are needed: matching is always caseless)");
	p->tok = (struct token){TOK_TERM, i, j - i, MATCH_TITLE};
	p->pos = j;
	return 0;
}

/* Reads a field name "name:" at s[i..i+n), where the colon is s[i+n]. */
static int lex_field(struct parser *p, size_t i, size_t n)
{
	if (n == 0)
		return fail(p, i,
			    "':' must follow a field name: title:, author:, abstract: or id:");
	for (size_t f = 0; f < sizeof(field_names) / sizeof(field_names[0]); f++) {
		if (strlen(field_names[f]) == n &&
		    strncasecmp(p->src + i, field_names[f], n) == 0) {
			p->tok = (struct token){TOK_FIELD, i, n + 1, (enum match_field)f};
			p->pos = i + n + 1;
			return 0;
		}
	}
	return fail(p, i,
		    "unknown field \"%.*s\": the fields are title, author, abstract and id (put "
		    "text with ':' in quotes)",
		    (int)utf8_cut(p->src + i, n, 40), p->src + i);
}

/* Reads an operator, a field name or a bare term starting at s[i]. */
static int lex_bare(struct parser *p, size_t i)
{
	static const struct {
		const char *word;
		enum tok_kind kind;
	} ops[] = {{"AND", TOK_AND}, {"OR", TOK_OR}, {"NOT", TOK_NOT}};
	const char *s = p->src, *colon;
	size_t j = i;

	while (j < p->len && !is_space(s[j]) && s[j] != '(' && s[j] != ')' && s[j] != '"')
		j++;
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		if (j - i == strlen(ops[k].word) && memcmp(s + i, ops[k].word, j - i) == 0) {
			p->tok = (struct token){ops[k].kind, i, j - i, MATCH_TITLE};
			p->pos = j;
			return 0;
		}
	}
	colon = memchr(s + i, ':', j - i);
	if (colon != NULL && colon - (s + i) == 4 && strncasecmp(s + i, "like", 4) == 0) {
		/* like:NAME is a term of its own, the name read by build_like. */
		p->tok = (struct token){TOK_TERM, i, j - i, MATCH_TITLE};
		p->pos = j;
		return 0;
	}
	if (colon != NULL)
		return lex_field(p, i, (size_t)(colon - (s + i)));
	if (j < p->len && s[j] == '"')
		return fail(p, j, "put a space between a term and the phrase that follows it");
	p->tok = (struct token){TOK_TERM, i, j - i, MATCH_TITLE};
	p->pos = j;
	return 0;
}

/* Moves to the next token. */
static int lex(struct parser *p)
{
	const char *s = p->src;
	size_t i = p->pos;

	p->prev = p->tok;
	while (i < p->len && is_space(s[i]))
		i++;
	p->tok = (struct token){TOK_END, i, 0, MATCH_TITLE};
	p->pos = i + 1;
	if (i == p->len) {
		p->pos = i;
		return 0;
	}
	switch (s[i]) {
	case '(':
		p->tok.kind = TOK_LPAREN;
		p->tok.len = 1;
		return 0;
	case ')':
		p->tok.kind = TOK_RPAREN;
		p->tok.len = 1;
		return 0;
	case '"':
	case '/':
		return lex_quoted(p, i);
	case '-':
		if (i + 1 == p->len || is_space(s[i + 1]) || s[i + 1] == ')')
			return fail(p, i,
				    "'-' must be followed directly by the term it excludes, as "
				    "in -survey");
		p->tok.kind = TOK_MINUS;
		p->tok.len = 1;
		return 0;
	default:
		return lex_bare(p, i);
	}
}

static int new_node(struct parser *p, enum query_op op)
{
	p->nodes = xgrow(p->nodes, &p->cap_nodes, p->n_nodes + 1, sizeof(*p->nodes));
	p->nodes[p->n_nodes] = (struct pnode){op, 0, -1, -1, -1, false};
	return (int)p->n_nodes++;
}

static void add_child(struct parser *p, int parent, int child)
{
	struct pnode *n = &p->nodes[parent];

	if (n->first < 0)
		n->first = child;
	else
		p->nodes[n->last].next = child;
	n->last = child;
	n->has_regex |= p->nodes[child].has_regex;
}

/* ---- Terms ---- */

/* Whether s is an arXiv id without version: 2410.07177, or hep-th/9901001, math.ag/0601001. */
static bool looks_like_id(const char *s, size_t n)
{
	size_t i = 0, d = 0;

	if ((n == 9 || n == 10) && s[4] == '.') {
		for (i = 0; i < n && (i == 4 || (s[i] >= '0' && s[i] <= '9')); i++)
			;
		return i == n;
	}
	while (i < n && ((s[i] >= 'a' && s[i] <= 'z') || s[i] == '-'))
		i++;
	if (i == 0)
		return false;
	if (i + 3 < n && s[i] == '.' && s[i + 1] >= 'a' && s[i + 1] <= 'z' && s[i + 2] >= 'a' &&
	    s[i + 2] <= 'z')
		i += 3;
	if (i >= n || s[i++] != '/')
		return false;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		d++;
	return i == n && d == 7;
}

/* Where a version ("v2") starts in an id written with one, or n. */
static size_t version_at(const char *s, size_t n)
{
	size_t v = n;

	while (v > 0 && s[v - 1] >= '0' && s[v - 1] <= '9')
		v--;
	return v < n && v > 0 && s[v - 1] == 'v' && looks_like_id(s, v - 1) ? v - 1 : n;
}

/* An id: term (s at byte off of the query, lower-cased here). */
static int build_id(struct parser *p, struct query_term *t, const char *s, size_t n, size_t off)
{
	char *id;

	t->prefix = n > 0 && s[n - 1] == '*';
	n -= t->prefix;
	if (n == 0)
		return fail(p, off,
			    "id: needs an arXiv id (2410.07177) or the start of one (2410.*)");
	id = arena_strndup(&p->q->arena, s, n);
	for (size_t i = 0; i < n; i++) {
		char c = (char)(id[i] >= 'A' && id[i] <= 'Z' ? id[i] | 0x20 : id[i]);

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == '/'))
			return fail(p, off + i,
				    "an arXiv id has only letters, digits, '.', '-' and '/'");
		id[i] = c;
	}
	if (!t->prefix && version_at(id, n) < n)
		return fail(p, off + version_at(id, n),
			    "id: takes the id without its version, as in id:%.*s",
			    (int)version_at(id, n), id);
	if (!t->prefix && !looks_like_id(id, n))
		return fail(p, off,
			    "not an arXiv id: write it like 2410.07177 or hep-th/9901001, or end "
			    "it with * to match every id that starts so (2410.*)");
	t->kind = QUERY_ID;
	t->id = id;
	t->id_len = n;
	return 0;
}

/* A word, prefix or phrase term: s at byte off of the query, without its quotes. */
static int build_words(struct parser *p, struct query_term *t, const char *s, size_t n, size_t off,
		       bool quoted)
{
	const char *star = memchr(s, '*', n);
	struct text_words *tw = &p->tw;

	if (star != NULL && star != s + n - 1)
		return fail(p, off + (size_t)(star - s),
			    "'*' can only end a term, where it makes a prefix (agent*)");
	t->prefix = star != NULL;
	n -= t->prefix;
	text_words_clear(tw);
	text_cut(tw, s, n, 0);
	if (tw->n == 0 && t->prefix && n == 0)
		return fail(p, off, "'*' must follow a letter or digit, as in agent*");
	if (tw->n == 0)
		return fail(p, off - quoted,
			    quoted ? "empty phrase: it has no letter or digit"
				   : "this term has no letter or digit, so it could never match");
	if (t->prefix && tw->w[tw->n - 1].end != n)
		return fail(p, off + n, "'*' must follow a letter or digit, as in agent*");
	if (tw->n > QUERY_MAX_PHRASE)
		return fail(p, off - quoted, "a phrase can have at most %d words",
			    QUERY_MAX_PHRASE);
	t->kind = QUERY_WORDS;
	t->n_words = tw->n;
	t->words = arena_alloc(&p->q->arena, tw->n * sizeof(*t->words));
	for (size_t i = 0; i < tw->n; i++) {
		t->words[i].s = arena_strndup(&p->q->arena, text_word_bytes(tw, i), tw->w[i].len);
		t->words[i].len = tw->w[i].len;
		t->words[i].nospace = (tw->w[i].flags & TEXT_WORD_NOSPACE) != 0;
	}
	return 0;
}

/* A /regex/ term: the pattern s at byte off of the query. */
static int build_regex(struct parser *p, struct query_term *t, const char *s, size_t n, size_t off)
{
	char msg[120];
	size_t at = 0;

	if (n == 0)
		return fail(p, off - 1, "empty regular expression");
	t->rx = rx_compile(s, n, &at, msg, sizeof(msg));
	if (t->rx == NULL)
		return fail(p, off + (at < n ? at : n), "regular expression: %s", msg);
	t->kind = QUERY_REGEX;
	return 0;
}

static bool starts_unary(enum tok_kind k)
{
	return k == TOK_NOT || k == TOK_MINUS || k == TOK_FIELD || k == TOK_LPAREN || k == TOK_TERM;
}

/* Whether the token is a bare and, or or not in a case other than the operators' (a lower-case
 * operator is a word, but is most likely meant as the operator). */
static const char *loose_operator(const struct parser *p, const struct token *t)
{
	static const char *const words[] = {"AND", "OR", "NOT"};

	for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
		if (t->len == strlen(words[k]) &&
		    strncasecmp(p->src + t->at, words[k], t->len) == 0 &&
		    memcmp(p->src + t->at, words[k], t->len) != 0)
			return words[k];
	}
	return NULL;
}

/* Warns, once per query, when the term t, a loose operator op, stands between two terms: the
 * query still loads, searching the word, and the warning says how to write either meaning. */
static void warn_loose(struct parser *p, const struct token *before, const struct token *t,
		       const char *op)
{
	char a[64], b[64], w[8];

	if (p->qe->warning[0] != '\0')
		return;
	snprintf(w, sizeof(w), "%.*s", (int)t->len, p->src + t->at);
	tok_name(p, before, a, sizeof(a));
	tok_name(p, &p->tok, b, sizeof(b));
	p->qe->warning_column = column_of(p->src, t->at);
	if (strcmp(op, "OR") == 0)
		snprintf(p->qe->warning, sizeof(p->qe->warning),
			 "\"%s\" is searched as a word, so every term is required; write %s OR %s "
			 "to match either, or put \"%s\" in quotes to search for the word",
			 w, a, b, w);
	else if (strcmp(op, "AND") == 0)
		snprintf(p->qe->warning, sizeof(p->qe->warning),
			 "\"%s\" is searched as a word; write %s %s (or %s AND %s) to require "
			 "both, or put \"%s\" in quotes to search for the word",
			 w, a, b, a, b, w);
	else
		snprintf(p->qe->warning, sizeof(p->qe->warning),
			 "\"%s\" is searched as a word; write %s NOT %s (or %s -%s) to exclude, or "
			 "put \"%s\" in quotes to search for the word",
			 w, a, b, a, b, w);
}

/* Moves past the term just made, warning when it looks like an operator in the wrong case. */
static int finish_term(struct parser *p)
{
	struct token before = p->prev, t = p->tok;
	const char *op = loose_operator(p, &t);

	if (lex(p) != 0)
		return -1;
	if (op != NULL && (before.kind == TOK_TERM || before.kind == TOK_RPAREN) &&
	    starts_unary(p->tok.kind))
		warn_loose(p, &before, &t, op);
	return 0;
}

/* A like:NAME term, s being the whole token at byte off of the query. */
static int build_like(struct parser *p, struct query_term *t, const char *s, size_t n, size_t off,
		      unsigned fields)
{
	if (fields != 0)
		return fail(p, off,
			    "like: is not searched in a field: write it outside title:(...)");
	if (n == 5)
		return fail(p, off, "like: needs a library's name, as in like:mine");
	if (n - 5 > QUERY_MAX_LIKE_NAME)
		return fail(p, off + 5, "a library's name has at most %d characters",
			    QUERY_MAX_LIKE_NAME);
	for (size_t i = 5; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return fail(p, off + i,
				    "a library's name has only letters, digits, '-', '_' and '.'");
	}
	t->kind = QUERY_LIKE;
	t->fields = 0;
	t->id = arena_strndup(&p->q->arena, s + 5, n - 5);
	t->id_len = n - 5;
	return 0;
}

/* Makes the term of the current token, in fields (0: none given), and its tree node. */
static int parse_term(struct parser *p, unsigned fields, bool neg, int *node)
{
	const char *s = p->src + p->tok.at;
	size_t n = p->tok.len, at = p->tok.at;
	bool quoted = s[0] == '"';
	struct query_term t = {0};
	int rc;

	if (p->q->n_terms == QUERY_MAX_TERMS)
		return fail(p, at, "a query can have at most %d terms", QUERY_MAX_TERMS);
	t.fields = fields ? fields : QUERY_UNFIELDED;
	t.negative = neg;
	t.text = arena_strndup(&p->q->arena, s, n);
	t.column = column_of(p->src, at);
	if (n >= 5 && strncasecmp(s, "like:", 5) == 0)
		rc = build_like(p, &t, s, n, at, fields);
	else if (s[0] == '/')
		rc = build_regex(p, &t, s + 1, n - 2, at + 1);
	else if (fields == QUERY_FIELD(MATCH_ID))
		rc = build_id(p, &t, s + quoted, n - 2 * (size_t)quoted, at + quoted);
	else
		rc = build_words(p, &t, s + quoted, n - 2 * (size_t)quoted, at + quoted, quoted);
	if (rc != 0)
		return rc;
	p->q->terms = xgrow(p->q->terms, &p->cap_terms, p->q->n_terms + 1, sizeof(*p->q->terms));
	*node = new_node(p, QUERY_TERM);
	p->nodes[*node].term = (unsigned)p->q->n_terms;
	/* A library's score costs as much as a regular expression: evaluated late too. */
	p->nodes[*node].has_regex = t.kind == QUERY_REGEX || t.kind == QUERY_LIKE;
	p->q->terms[p->q->n_terms++] = t;
	return finish_term(p);
}

/* ---- The grammar, as search boxes read it: and := or {[AND] or}; or := unary {OR unary};
 * unary := (NOT | - | field:) unary | ( and ) | term ---- */

/* The refusal when the operator op is not followed by a term. */
static int missing_after(struct parser *p, const struct token *op)
{
	char a[64], b[64];

	if (p->tok.kind == TOK_END)
		return fail(p, op->at, "%s needs a term after it", tok_name(p, op, a, sizeof(a)));
	return fail(p, p->tok.at, "expected a term after %s, found %s",
		    tok_name(p, op, a, sizeof(a)), tok_name(p, &p->tok, b, sizeof(b)));
}

static int parse_and(struct parser *p, unsigned fields, bool neg, int *node);

/* ( and ), the '(' being the current token. */
static int parse_group(struct parser *p, unsigned fields, bool neg, int *node)
{
	size_t open = p->tok.at;

	if (lex(p) != 0)
		return -1;
	if (p->tok.kind == TOK_RPAREN)
		return fail(p, open, "empty parentheses");
	if (p->tok.kind == TOK_END)
		return fail(p, open, "this '(' is never closed");
	if (parse_and(p, fields, neg, node) != 0)
		return -1;
	if (p->tok.kind != TOK_RPAREN)
		return fail(p, open, "this '(' is never closed");
	return lex(p);
}

/* A unary expression: a dispatch on the token that starts it. */
static int parse_unary(struct parser *p, unsigned fields, bool neg, int *node)
{
	struct token op = p->tok;
	char a[64];
	int rc, child;

	if (op.kind == TOK_TERM)
		return parse_term(p, fields, neg, node);
	/* A level is a '(', a negation or a field around what follows; the term they end in is
	 * not one, so that 64 parentheses around a term are 64 levels. */
	if (++p->depth > QUERY_MAX_DEPTH)
		return fail(p, op.at, "the query nests deeper than %d levels", QUERY_MAX_DEPTH);
	switch (op.kind) {
	case TOK_NOT:
	case TOK_MINUS:
	case TOK_FIELD:
		if (lex(p) != 0)
			return -1;
		if (!starts_unary(p->tok.kind))
			return missing_after(p, &op);
		if (op.kind == TOK_FIELD) {
			unsigned f = QUERY_FIELD(op.field);

			if (fields != 0 && fields != f)
				return fail(p, op.at,
					    "%s inside another field's parentheses: a "
					    "term is searched in one field",
					    tok_name(p, &op, a, sizeof(a)));
			rc = parse_unary(p, f, neg, node);
			break;
		}
		rc = parse_unary(p, fields, !neg, &child);
		if (rc == 0) {
			*node = new_node(p, QUERY_NOT);
			add_child(p, *node, child);
		}
		break;
	case TOK_LPAREN:
		rc = parse_group(p, fields, neg, node);
		break;
	case TOK_RPAREN:
		return fail(p, op.at, "this ')' has no matching '('");
	default:
		return fail(p, op.at, "%s needs a term before it", tok_name(p, &op, a, sizeof(a)));
	}
	p->depth--;
	return rc;
}

/* Adds child to the op list at *list, making the list (with *node its first child) if need be:
 * a single child stands for itself. */
static void join(struct parser *p, enum query_op op, int *list, int *node, int child)
{
	if (*list < 0) {
		*list = new_node(p, op);
		add_child(p, *list, *node);
		*node = *list;
	}
	add_child(p, *list, child);
}

static int parse_or(struct parser *p, unsigned fields, bool neg, int *node)
{
	int child = -1, list = -1;

	if (parse_unary(p, fields, neg, node) != 0)
		return -1;
	while (p->tok.kind == TOK_OR) {
		struct token op = p->tok;

		if (lex(p) != 0)
			return -1;
		if (!starts_unary(p->tok.kind))
			return missing_after(p, &op);
		if (parse_unary(p, fields, neg, &child) != 0)
			return -1;
		join(p, QUERY_OR, &list, node, child);
	}
	return 0;
}

static int parse_and(struct parser *p, unsigned fields, bool neg, int *node)
{
	int child = -1, list = -1;

	if (parse_or(p, fields, neg, node) != 0)
		return -1;
	for (;;) {
		if (p->tok.kind == TOK_AND) {
			struct token op = p->tok;

			if (lex(p) != 0)
				return -1;
			if (!starts_unary(p->tok.kind))
				return missing_after(p, &op);
		} else if (!starts_unary(p->tok.kind)) {
			return 0;
		}
		if (parse_or(p, fields, neg, &child) != 0)
			return -1;
		join(p, QUERY_AND, &list, node, child);
	}
}

/* ---- Flattening ---- */

/* Writes the subtree at idx to q->nodes in prefix order, children without a regular expression
 * first. */
static void flatten(struct parser *p, int idx)
{
	struct query *q = p->q;
	const struct pnode *n = &p->nodes[idx];
	size_t at = q->n_nodes++;
	unsigned kids = 0;

	q->nodes[at] = (struct query_node){n->op, n->term, 0};
	if (n->op != QUERY_TERM) {
		for (int pass = 0; pass < 2; pass++) {
			for (int c = n->first; c >= 0; c = p->nodes[c].next) {
				if (p->nodes[c].has_regex == (pass == 1)) {
					flatten(p, c);
					kids++;
				}
			}
		}
		q->nodes[at].arg = n->op == QUERY_NOT ? 0 : kids;
	}
	q->nodes[at].size = (unsigned)(q->n_nodes - at);
}

static int parse_all(struct parser *p, int *root)
{
	size_t n = p->len, valid = utf8_valid_prefix(p->src, n);

	if (n > QUERY_MAX_BYTES)
		return fail(p, 0, "the query is longer than %d bytes", QUERY_MAX_BYTES);
	if (valid < n)
		return fail(p, valid, "the query is not valid UTF-8");
	if (lex(p) != 0)
		return -1;
	if (p->tok.kind == TOK_END)
		return fail(p, 0, "empty query");
	if (parse_and(p, 0, false, root) != 0)
		return -1;
	if (p->tok.kind == TOK_RPAREN)
		return fail(p, p->tok.at, "this ')' has no matching '('");
	return 0;
}

int query_parse(struct query *q, const char *text, struct query_error *qe)
{
	struct parser p = {.src = text, .len = strlen(text), .q = q, .qe = qe};
	int root = -1, rc;

	qe->warning[0] = '\0';
	qe->warning_column = 0;
	memset(q, 0, sizeof(*q));
	arena_init(&q->arena);
	text_words_init(&p.tw);
	rc = parse_all(&p, &root);
	if (rc == 0) {
		q->nodes = xreallocarray(NULL, p.n_nodes, sizeof(*q->nodes));
		flatten(&p, root);
	} else {
		query_free(q);
	}
	free(p.nodes);
	text_words_free(&p.tw);
	return rc;
}

void query_free(struct query *q)
{
	if (q == NULL)
		return;
	for (size_t i = 0; i < q->n_terms; i++)
		rx_free(q->terms[i].rx);
	free(q->terms);
	free(q->nodes);
	arena_free(&q->arena);
	memset(q, 0, sizeof(*q));
}
