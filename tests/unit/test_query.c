/*
 * test_query.c — the query language's parser: operators and their precedence, fields, the kinds
 * of term and how their text is folded, and every refusal with the column it points at.
 */
#include "unit.h"

#include "match/query.h"

/* Appends the subtree at n to out as an s-expression; returns the node after it. */
static const struct query_node *show(const struct query *q, const struct query_node *n, char *out,
				     size_t size)
{
	static const char *const ops[] = {"", "and", "or", "not"};
	const struct query_node *c = n + 1;
	size_t o = strlen(out);

	if (n->op == QUERY_TERM) {
		const struct query_term *t = &q->terms[n->arg];
		const char *field = "";

		if (t->fields == QUERY_FIELD(MATCH_TITLE))
			field = "title:";
		else if (t->fields == QUERY_FIELD(MATCH_AUTHORS))
			field = "author:";
		else if (t->fields == QUERY_FIELD(MATCH_ABSTRACT))
			field = "abstract:";
		else if (t->fields == QUERY_FIELD(MATCH_ID))
			field = "id:";
		snprintf(out + o, size - o, "%s%s", field, t->text);
		return c;
	}
	snprintf(out + o, size - o, "(%s", ops[n->op]);
	for (unsigned i = 0; i < (n->op == QUERY_NOT ? 1 : n->arg); i++) {
		strcat(out, " ");
		c = show(q, c, out, size);
	}
	strcat(out, ")");
	return c;
}

/* The tree of a query that must parse, in a static buffer. */
static const char *tree(const char *query)
{
	static char out[2048];
	struct query_error qe;
	struct query q;

	if (query_parse(&q, query, &qe) != 0)
		fail_msg("%s: column %u: %s", query, qe.column, qe.msg);
	out[0] = '\0';
	assert_true(show(&q, q.nodes, out, sizeof(out)) == q.nodes + q.n_nodes);
	assert_int_equal(q.nodes[0].size, q.n_nodes);
	query_free(&q);
	return out;
}

/* Asserts that query is refused at column with a message containing msg. */
static void refused(const char *query, unsigned column, const char *msg)
{
	struct query_error qe = {0};
	struct query q;

	if (query_parse(&q, query, &qe) == 0) {
		query_free(&q);
		fail_msg("%s: accepted", query);
	}
	if (qe.column != column || strstr(qe.msg, msg) == NULL)
		fail_msg("%s: column %u: %s (expected column %u: ...%s...)", query, qe.column,
			 qe.msg, column, msg);
}

static void juxtaposed_terms_are_and_and_or_binds_tighter(void **state)
{
	(void)state;
	assert_string_equal(tree("agent"), "agent");
	assert_string_equal(tree("agent robot"), "(and agent robot)");
	/* As in Google, Gmail and Lucene: a OR b c means (a OR b) c. */
	assert_string_equal(tree("agent AND robot OR llm"), "(and agent (or robot llm))");
	assert_string_equal(tree("a OR b c OR d"), "(and (or a b) (or c d))");
	assert_string_equal(tree("a OR b OR c"), "(or a b c)");
	assert_string_equal(tree("a AND (b OR c)"), "(and a (or b c))");
	assert_string_equal(tree("(a b) OR c"), "(or (and a b) c)");
	assert_string_equal(tree("a b AND c"), "(and a b c)");
}

static void not_and_minus_negate_the_next_term_or_group(void **state)
{
	(void)state;
	assert_string_equal(tree("agent -survey"), "(and agent (not survey))");
	assert_string_equal(tree("agent NOT survey"), "(and agent (not survey))");
	assert_string_equal(tree("agent AND NOT survey"), "(and agent (not survey))");
	assert_string_equal(tree("NOT a OR b"), "(or (not a) b)");
	assert_string_equal(tree("-(a OR b)"), "(not (or a b))");
	assert_string_equal(tree("--a"), "(not (not a))");
	assert_string_equal(tree("-\"tool use\""), "(not \"tool use\")");
	/* A -term in a flat query excludes from the whole query. */
	assert_string_equal(tree("title:agent* OR \"tool use\" -survey"),
			    "(and (or title:agent* \"tool use\") (not survey))");
}

/* The warning a query that must parse gives, or "" for none. */
static const char *warning(const char *query, unsigned *column)
{
	static char out[sizeof(((struct query_error *)0)->warning)];
	struct query_error qe;
	struct query q;

	if (query_parse(&q, query, &qe) != 0)
		fail_msg("%s: column %u: %s", query, qe.column, qe.msg);
	query_free(&q);
	snprintf(out, sizeof(out), "%s", qe.warning);
	*column = qe.warning_column;
	return out;
}

static void lower_case_operators_are_words_with_a_warning(void **state)
{
	unsigned col = 0;

	(void)state;
	assert_string_equal(tree("cats and dogs or not"), "(and cats and dogs or not)");
	assert_string_equal(tree("\"AND\""), "\"AND\"");
	assert_non_null(strstr(warning("agent or robot", &col), "\"or\" is searched as a word"));
	assert_int_equal(col, 7);
	assert_non_null(strstr(warning("agent or robot", &col), "agent OR robot"));
	assert_non_null(strstr(warning("agent or robot", &col), "\"or\" in quotes"));
	assert_non_null(strstr(warning("cats And dogs", &col), "\"And\" is searched as a word"));
	assert_int_equal(col, 6);
	assert_non_null(strstr(warning("a not b", &col), "a NOT b"));
	/* Not between two terms: no operator was meant. */
	assert_string_equal(warning("or", &col), "");
	assert_string_equal(warning("rock and", &col), "");
	assert_string_equal(warning("\"this or that\"", &col), "");
	assert_string_equal(warning("a OR b", &col), "");
	assert_string_equal(warning("agent robot", &col), "");
}

static void fields_apply_to_a_term_or_a_group(void **state)
{
	(void)state;
	assert_string_equal(tree("title:agent*"), "title:agent*");
	assert_string_equal(tree("title:(agent OR robot) llm"),
			    "(and (or title:agent title:robot) llm)");
	assert_string_equal(tree("author:\"Sergey Levine\""), "author:\"Sergey Levine\"");
	assert_string_equal(tree("Abstract:x"), "abstract:x");
	assert_string_equal(tree("title: agent"), "title:agent");
	assert_string_equal(tree("title:-survey"), "(not title:survey)");
	assert_string_equal(tree("-title:survey"), "(not title:survey)");
	assert_string_equal(tree("title:(a title:b)"), "(and title:a title:b)");
	assert_string_equal(tree("id:2410.07177"), "id:2410.07177");
	assert_string_equal(tree("title:/dif+usion/"), "title:/dif+usion/");
}

static void regex_children_come_last_for_short_circuits(void **state)
{
	(void)state;
	assert_string_equal(tree("/graph neural/ agent"), "(and agent /graph neural/)");
	assert_string_equal(tree("(/abc/ OR x) y"), "(and y (or x /abc/))");
}

/* The only term of a query that must parse; the query stays for the caller to free. */
static const struct query_term *only_term(struct query *q, const char *query)
{
	struct query_error qe;

	if (query_parse(q, query, &qe) != 0)
		fail_msg("%s: column %u: %s", query, qe.column, qe.msg);
	assert_int_equal(q->n_terms, 1);
	return &q->terms[0];
}

static void terms_are_folded_into_words(void **state)
{
	struct query q;
	const struct query_term *t;

	(void)state;
	t = only_term(&q, "multi-agent");
	assert_int_equal(t->kind, QUERY_WORDS);
	assert_int_equal(t->n_words, 2);
	assert_string_equal(t->words[0].s, "multi");
	assert_string_equal(t->words[1].s, "agent");
	assert_false(t->prefix);
	assert_int_equal(t->fields, QUERY_UNFIELDED);
	query_free(&q);
	t = only_term(&q, "ＬＬＭ");
	assert_int_equal(t->n_words, 1);
	assert_string_equal(t->words[0].s, "llm");
	query_free(&q);
	t = only_term(&q, "\"大模型\"");
	assert_int_equal(t->n_words, 3);
	assert_true(t->words[0].nospace);
	query_free(&q);
	t = only_term(&q, "\"multi agent*\"");
	assert_int_equal(t->n_words, 2);
	assert_true(t->prefix);
	query_free(&q);
	t = only_term(&q, "C++");
	assert_string_equal(t->words[0].s, "c");
	query_free(&q);
}

static void terms_keep_their_text_column_and_polarity(void **state)
{
	struct query_error qe;
	struct query q;

	(void)state;
	assert_int_equal(query_parse(&q, "é title:agent* -\"tool use\" NOT /x+y/", &qe), 0);
	assert_int_equal(q.n_terms, 4);
	assert_string_equal(q.terms[1].text, "agent*");
	assert_int_equal(q.terms[1].column, 9);
	assert_false(q.terms[1].negative);
	assert_string_equal(q.terms[2].text, "\"tool use\"");
	assert_true(q.terms[2].negative);
	assert_int_equal(q.terms[3].kind, QUERY_REGEX);
	assert_true(q.terms[3].negative);
	query_free(&q);
	assert_int_equal(query_parse(&q, "NOT (a OR NOT b)", &qe), 0);
	assert_true(q.terms[0].negative);
	assert_false(q.terms[1].negative);
	query_free(&q);
}

static void ids_are_exact_or_prefixes_and_lower_cased(void **state)
{
	struct query q;
	const struct query_term *t;

	(void)state;
	t = only_term(&q, "id:2410.07177");
	assert_int_equal(t->kind, QUERY_ID);
	assert_string_equal(t->id, "2410.07177");
	assert_false(t->prefix);
	query_free(&q);
	t = only_term(&q, "id:2410.*");
	assert_true(t->prefix);
	assert_string_equal(t->id, "2410.");
	query_free(&q);
	t = only_term(&q, "id:Math.GT/0309136");
	assert_string_equal(t->id, "math.gt/0309136");
	query_free(&q);
	t = only_term(&q, "id:hep-th/9901001");
	assert_string_equal(t->id, "hep-th/9901001");
	query_free(&q);
	t = only_term(&q, "id:\"2410.0717*\"");
	assert_true(t->prefix);
	query_free(&q);
}

static void structural_errors_point_at_their_column(void **state)
{
	(void)state;
	refused("", 1, "empty query");
	refused("   ", 1, "empty query");
	refused("agent AND", 7, "AND needs a term after it");
	refused("agent OR", 7, "OR needs a term after it");
	refused("agent NOT", 7, "NOT needs a term after it");
	refused("AND agent", 1, "AND needs a term before it");
	refused("agent OR OR robot", 10, "expected a term after OR, found OR");
	refused("agent AND )", 11, "expected a term after AND, found ')'");
	refused("(agent OR robot", 1, "'(' is never closed");
	refused("x (a (b)", 3, "'(' is never closed");
	refused("agent)", 6, "')' has no matching '('");
	refused("()", 1, "empty parentheses");
	refused("a (OR b)", 4, "OR needs a term before it");
	refused("title:", 1, "title: needs a term after it");
	refused("title:)", 7, "expected a term after title:, found ')'");
	refused("- survey", 1, "'-' must be followed directly");
	refused("agent -", 7, "'-' must be followed directly");
}

static void term_errors_point_at_their_column(void **state)
{
	(void)state;
	refused("agent \"tool use", 7, "unterminated phrase");
	refused("é /diffusion", 3, "unterminated regular expression");
	refused("foo:bar", 1,
		"unknown field \"foo\": the fields are title, author, abstract and id");
	refused("agent authors:x", 7, "unknown field \"authors\"");
	refused(":x", 1, "':' must follow a field name");
	refused("agent like:", 7, "like: needs a library's name");
	refused("like:my/lib", 8, "a library's name has only");
	refused("title:like:mine", 7, "like: is not searched in a field");
	refused("x +++", 3, "no letter or digit");
	refused("\"\"", 1, "empty phrase");
	refused("a \" .. \"", 3, "empty phrase");
	refused("//", 1, "empty regular expression");
	refused("ag*ent", 3, "'*' can only end a term");
	refused("*", 1, "'*' must follow a letter or digit");
	refused("\"*\"", 2, "'*' must follow a letter or digit");
	refused("agent-*", 7, "'*' must follow a letter or digit");
	refused("\"tool use\"s", 11, "put a space between a phrase and what follows");
	refused("/x+/i", 5, "put a space between a regular expression");
	refused("agent\"x\"", 6, "put a space between a term and the phrase");
	refused("title:(author:x)", 8, "author: inside another field's parentheses");
}

static void regex_errors_carry_pcre2s_message_at_its_offset(void **state)
{
	(void)state;
	refused("é /diffusion (model/", 20, "regular expression: missing closing parenthesis");
	refused("/a[b/", 5, "regular expression: missing terminating ]");
	refused("x /a*/", 4, "can match empty text");
	refused("/foo\\Kbar/", 5, "\\K is not supported");
	refused("/\\p{Foo}/", 9, "regular expression: unknown property");
}

static void id_errors_say_what_an_id_looks_like(void **state)
{
	(void)state;
	refused("id:2410.07177v2", 14, "without its version, as in id:2410.07177");
	refused("id:foo", 4, "not an arXiv id");
	refused("id:2410", 4, "not an arXiv id");
	refused("id:24_10*", 6, "only letters, digits");
	refused("id:*", 4, "id: needs an arXiv id");
}

/* A query of `levels` times `open` around a term, each closed by `close`, in q. */
static const char *nest(char *q, size_t size, int levels, const char *open, const char *close)
{
	size_t n = 0;

	for (int i = 0; i < levels; i++)
		n += (size_t)snprintf(q + n, size - n, "%s", open);
	n += (size_t)snprintf(q + n, size - n, "a");
	for (int i = 0; i < levels; i++)
		n += (size_t)snprintf(q + n, size - n, "%s", close);
	return q;
}

static void parentheses_negations_and_fields_nest_64_deep_and_no_deeper(void **state)
{
	char q[1024];

	(void)state;
	assert_int_equal(QUERY_MAX_DEPTH, 64);
	assert_string_equal(tree(nest(q, sizeof(q), 64, "(", ")")), "a");
	refused(nest(q, sizeof(q), 65, "(", ")"), 65, "the query nests deeper than 64 levels");
	tree(nest(q, sizeof(q), 64, "NOT ", ""));
	refused(nest(q, sizeof(q), 65, "NOT ", ""), 4 * 64 + 1, "nests deeper than 64 levels");
	tree(nest(q, sizeof(q), 32, "-(", ")"));
	refused(nest(q, sizeof(q), 33, "-(", ")"), 65, "nests deeper than 64 levels");
	tree(nest(q, sizeof(q), 64, "title:", ""));
	refused(nest(q, sizeof(q), 65, "title:", ""), 6 * 64 + 1, "nests deeper than 64 levels");
}

static void limits_are_refused_not_crashed_on(void **state)
{
	char q[QUERY_MAX_BYTES + 10];
	size_t n = 0;

	(void)state;
	for (int i = 0; i < QUERY_MAX_DEPTH + 1; i++)
		q[n++] = '(';
	q[n++] = 'a';
	q[n] = '\0';
	refused(q, QUERY_MAX_DEPTH + 1, "nests deeper");
	memset(q, 'a', sizeof(q) - 1);
	q[sizeof(q) - 1] = '\0';
	refused(q, 1, "longer than");
	refused("ab\xff", 3, "not valid UTF-8");
	n = 0;
	for (int i = 0; i < QUERY_MAX_TERMS + 1; i++)
		n += (size_t)snprintf(q + n, sizeof(q) - n, "a ");
	refused(q, 2 * QUERY_MAX_TERMS + 1, "at most 1000 terms");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(juxtaposed_terms_are_and_and_or_binds_tighter),
		cmocka_unit_test(not_and_minus_negate_the_next_term_or_group),
		cmocka_unit_test(lower_case_operators_are_words_with_a_warning),
		cmocka_unit_test(fields_apply_to_a_term_or_a_group),
		cmocka_unit_test(regex_children_come_last_for_short_circuits),
		cmocka_unit_test(terms_are_folded_into_words),
		cmocka_unit_test(terms_keep_their_text_column_and_polarity),
		cmocka_unit_test(ids_are_exact_or_prefixes_and_lower_cased),
		cmocka_unit_test(structural_errors_point_at_their_column),
		cmocka_unit_test(term_errors_point_at_their_column),
		cmocka_unit_test(regex_errors_carry_pcre2s_message_at_its_offset),
		cmocka_unit_test(id_errors_say_what_an_id_looks_like),
		cmocka_unit_test(parentheses_negations_and_fields_nest_64_deep_and_no_deeper),
		cmocka_unit_test(limits_are_refused_not_crashed_on),
	};

	return cmocka_run_group_tests_name("query", tests, NULL, NULL);
}
