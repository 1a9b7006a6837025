/*
 * test_match.c — the compiled matcher through its public interface: every operator and field,
 * the word rule (plurals, no longer words), phrases, scripts without spaces, folding, ids,
 * regular expressions, and the exact byte ranges of hits.
 */
#include "unit.h"

#include "match/match.h"

/* A paper with the given strings; authors is a NULL-terminated list or NULL. */
static struct paper paper(const char *title, const char *abstract, const char **authors,
			  const char *id)
{
	struct paper p = {.title = title, .abstract = abstract, .authors = authors, .id = id};

	while (authors != NULL && authors[p.n_authors] != NULL)
		p.n_authors++;
	return p;
}

/* What the callback saw: rules in order, and the hits as text. */
struct seen {
	const struct matcher *m;
	const struct paper *p;
	char rules[256];
	char hits[2048];
};

static const char *field_text(const struct paper *p, const struct match_hit *h)
{
	switch (h->field) {
	case MATCH_TITLE:
		return p->title;
	case MATCH_AUTHORS:
		return p->authors[h->author];
	case MATCH_ABSTRACT:
		return p->abstract;
	default:
		return p->id;
	}
}

/* Records "rule" and each hit as `term field[author] "text"`. */
static void record(void *ctx, unsigned rule, const struct match_hit *hits, size_t n)
{
	struct seen *s = ctx;
	size_t o = strlen(s->rules);

	snprintf(s->rules + o, sizeof(s->rules) - o, "%s%u", o ? " " : "", rule);
	for (size_t i = 0; i < n; i++) {
		const struct match_hit *h = &hits[i];
		const char *text = field_text(s->p, h);
		size_t k = strlen(s->hits);

		assert_true(h->start < h->end && h->end <= strlen(text));
		snprintf(s->hits + k, sizeof(s->hits) - k, "%s%s %s", k ? "; " : "",
			 matcher_term_text(s->m, rule, h->term), match_field_name(h->field));
		k = strlen(s->hits);
		if (h->field == MATCH_AUTHORS)
			snprintf(s->hits + k, sizeof(s->hits) - k, "[%u]", h->author);
		k = strlen(s->hits);
		snprintf(s->hits + k, sizeof(s->hits) - k, " \"%.*s\"", (int)(h->end - h->start),
			 text + h->start);
	}
}

/* The hits of query on p ("" when it matches with none), or NULL when it does not match. */
static const char *hits(const char *query, const struct paper *p)
{
	static struct seen s;
	struct matcher *m = matcher_new();
	struct query_error qe;
	size_t n;

	if (matcher_add(m, query, &qe) != 0)
		fail_msg("%s: column %u: %s", query, qe.column, qe.msg);
	matcher_compile(m);
	memset(&s, 0, sizeof(s));
	s.m = m;
	s.p = p;
	n = matcher_match(m, p, true, record, &s);
	/* Without explanations the answer is the same. */
	assert_int_equal(matcher_match(m, p, false, NULL, NULL), n);
	matcher_free(m);
	return n ? s.hits : NULL;
}

static bool matches(const char *query, const char *title)
{
	struct paper p = paper(title, NULL, NULL, NULL);

	return hits(query, &p) != NULL;
}

/* The like: answer for the tests: library "hi" holds for rule 0 only, "lo" never. */
static bool like_stub(void *ctx, unsigned rule, const char *name, const struct paper *p)
{
	size_t *calls = ctx;

	(void)p;
	(*calls)++;
	return strcmp(name, "hi") == 0 && rule == 0;
}

/* like:NAME composes with the rest of the language; its answer is asked per rule, and only of
 * rules that need it. */
static void like_terms_hold_by_the_answer_for_their_rule(void **state)
{
	struct matcher *m = matcher_new();
	struct paper p = paper("Diffusion policies", NULL, NULL, NULL);
	struct seen s = {.m = m, .p = &p};
	struct query_error qe;
	size_t calls = 0;

	(void)state;
	assert_int_equal(matcher_add(m, "like:hi -survey", &qe), 0);
	assert_int_equal(matcher_add(m, "like:hi", &qe), 1);
	assert_int_equal(matcher_add(m, "like:lo OR diffusion", &qe), 2);
	assert_int_equal(matcher_add(m, "like:hi robot", &qe), 3);
	assert_int_equal(matcher_add(m, "NOT like:lo", &qe), 4);
	assert_string_equal(matcher_like_name(m, 2, 0), "lo");
	assert_null(matcher_like_name(m, 2, 1));
	assert_null(matcher_like_name(m, 5, 0));
	matcher_set_like(m, like_stub, &calls);
	matcher_compile(m);
	assert_int_equal(matcher_match(m, &p, true, record, &s), 3);
	assert_string_equal(s.rules, "0 2 4");
	assert_string_equal(s.hits, "diffusion title \"Diffusion\"");
	/* Rule 3 needs "robot", which the paper lacks: its library is not asked. */
	assert_true(calls <= 4);
	matcher_free(m);
}

static void words_match_themselves_and_their_plurals(void **state)
{
	(void)state;
	assert_true(matches("agent", "An agent"));
	assert_true(matches("agent", "Web Agents"));
	assert_true(matches("LLM", "Sparse attention in your LLMs"));
	assert_true(matches("llm", "LLM serving"));
	assert_true(matches("class", "Open-set classes"));
	assert_true(matches("box", "Bounding boxes"));
	assert_false(matches("agent", "Agentic workflows"));
	assert_false(matches("agents", "One agent"));
}

static void words_never_match_longer_words(void **state)
{
	(void)state;
	assert_true(matches("RAG", "Astute RAG: overcoming retrieval"));
	assert_false(matches("RAG", "Key-value storage"));
	assert_false(matches("RAG", "We leverage"));
	assert_false(matches("RAG", "RAGged batches"));
	assert_false(matches("RAG", "Rages of the sea"));
	assert_false(matches("agent", "agentes"));
}

static void prefixes_match_words_that_start_with_them(void **state)
{
	(void)state;
	assert_true(matches("agent*", "Agentic workflows"));
	assert_true(matches("agent*", "Agent"));
	assert_false(matches("agent*", "Reagents"));
	assert_true(matches("title:multi-ag*", "Multi-Agentic systems"));
	assert_false(matches("multi-ag*", "multi step agents"));
}

static void phrases_match_consecutive_words_across_punctuation(void **state)
{
	(void)state;
	assert_true(matches("\"tool use\"", "Learning Tool-Use from demos"));
	assert_true(matches("\"tool use\"", "tool, use"));
	assert_false(matches("\"tool use\"", "use tool"));
	assert_false(matches("\"tool use\"", "tool for use"));
	assert_true(matches("\"language model\"", "Large Language Models"));
	assert_true(matches("multi-agent", "Multi Agent RL"));
	assert_true(matches("multi-agent", "multi-agent RL"));
	assert_false(matches("multi-agent", "multiagent RL"));
	assert_true(matches("\"large language model\"", "a large language-model"));
}

static void phrases_never_span_two_authors_or_two_fields(void **state)
{
	const char *authors[] = {"Sergey Ivanov", "Anna Levine", NULL};
	const char *both[] = {"Anna Levine", "Sergey Levine", NULL};
	struct paper p = paper("Deep RL Sergey", "Levine et al. study", authors, NULL);
	struct paper q = paper("T", NULL, both, NULL);

	(void)state;
	assert_null(hits("author:\"Sergey Levine\"", &p));
	assert_null(hits("\"Sergey Levine\"", &p));
	assert_null(hits("\"Ivanov Anna\"", &p));
	assert_null(hits("\"RL Sergey Levine\"", &p));
	assert_string_equal(hits("author:\"Sergey Levine\"", &q),
			    "\"Sergey Levine\" author[1] \"Sergey Levine\"");
	assert_string_equal(hits("author:levine", &q),
			    "levine author[0] \"Levine\"; levine author[1] \"Levine\"");
}

static void cjk_terms_match_inside_running_text(void **state)
{
	struct paper p = paper("基于大语言模型的检索增强生成", NULL, NULL, NULL);

	(void)state;
	assert_string_equal(hits("模型", &p), "模型 title \"模型\"");
	assert_string_equal(hits("\"语言模\"", &p), "\"语言模\" title \"语言模\"");
	assert_string_equal(hits("检索*", &p), "检索* title \"检索\"");
	assert_null(hits("模检", &p));
	assert_true(matches("ＲＡＧ検索", "RAG検索の評価"));
	assert_true(matches("LLMs", "面向LLMs的评测"));
	assert_true(matches("한국어", "한국어모델"));
}

static void nfkc_and_case_folding_make_width_and_case_irrelevant(void **state)
{
	struct paper p = paper("Ｆａｓｔ ＬＬＭ inference", NULL, NULL, NULL);

	(void)state;
	assert_string_equal(hits("llm", &p), "llm title \"ＬＬＭ\"");
	assert_string_equal(hits("ＬＬＭ", &p), "ＬＬＭ title \"ＬＬＭ\"");
	assert_true(matches("FAST", "ｆａｓｔ"));
	assert_true(matches("strasse", "Große Straße"));
	assert_true(matches("café", "CAFE\xcc\x81 society"));
	assert_true(matches("efficient", "E\xef\xac\x83"
					 "cient")); /* the ﬃ ligature */
}

/* With few rules the matcher skips papers of ASCII text that hold none of their keys' first two
 * bytes: a capital, a plural, a full-width form or a negation must still come out right. */
static void few_rules_skip_only_papers_that_none_can_match(void **state)
{
	struct paper none = paper("Nothing to see", "Plain words only.", NULL, "2501.00001");
	struct paper speech = paper("Speech", NULL, NULL, NULL);
	struct paper wide = paper("Ｒｏｂｏｔｓ", NULL, NULL, NULL);

	(void)state;
	assert_true(matches("robot", "ROBOTS at work"));
	assert_true(matches("robot", "Many-robots"));
	assert_false(matches("robot", "Many bots"));
	assert_string_equal(hits("robot", &wide), "robot title \"Ｒｏｂｏｔｓ\"");
	assert_string_equal(hits("-speech", &none), "");
	assert_null(hits("-speech", &speech));
	assert_string_equal(hits("id:2501*", &none), "2501* id \"2501.00001\"");
}

/* Sets bit `rule` of the unsigned at ctx. */
static void rule_bits(void *ctx, unsigned rule, const struct match_hit *hits, size_t n)
{
	(void)hits;
	(void)n;
	*(unsigned *)ctx |= 1u << rule;
}

/* The sieve reads a paper's bytes in blocks and each key's first bytes at once: a key must be
 * found wherever it starts, in either case, up to the string's last byte, beside another key
 * that shares its first bytes, and a key cut short by the end of the string must not be. */
static void the_sieve_finds_a_key_at_every_offset(void **state)
{
	static const char *const keys[] = {"ai", "gan", "gap", "nerf", "robot"};
	enum { LONGEST = 80 };
	struct matcher *m = matcher_new();
	struct query_error qe;
	char text[LONGEST + 1];

	(void)state;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		assert_int_equal(matcher_add(m, keys[k], &qe), (int)k);
	matcher_compile(m);
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		size_t len = strlen(keys[k]);

		for (size_t n = len; n <= LONGEST; n++) {
			for (size_t at = 0; at + len <= n; at++) {
				struct paper p = paper(text, NULL, NULL, NULL);
				unsigned want = 1u << k, got = 0;

				memset(text, '.', n);
				text[n] = '\0';
				for (size_t j = 0; j < len; j++)
					text[at + j] = (char)(at % 2 ? keys[k][j] - 'a' + 'A'
								     : keys[k][j]);
				assert_int_equal(matcher_match(m, &p, false, rule_bits, &got), 1);
				assert_int_equal(got, want);
				if (at + len < n || len == 2)
					continue;
				text[n - 1] = '.'; /* the key cut short by the end of the string */
				assert_int_equal(matcher_match(m, &p, false, rule_bits, &got), 0);
			}
		}
	}
	matcher_free(m);
}

static void fields_say_where_a_term_is_searched(void **state)
{
	const char *authors[] = {"Ada Lovelace", NULL};
	struct paper p = paper("Engines", "Notes on the analytical engine", authors, "2410.07177");

	(void)state;
	p.translation = "翻译 lovelace";
	assert_non_null(hits("title:engine", &p));
	assert_null(hits("title:notes", &p));
	assert_non_null(hits("abstract:notes", &p));
	assert_null(hits("abstract:lovelace", &p));
	assert_non_null(hits("author:lovelace", &p));
	assert_null(hits("author:engine", &p));
	assert_non_null(hits("lovelace", &p));
	assert_null(hits("翻译", &p));       /* translations are not searched */
	assert_null(hits("2410.07177", &p)); /* nor is the id, without id: */
	assert_non_null(hits("title:(engines OR nothing)", &p));
	assert_null(hits("title:(notes OR nothing)", &p));
}

static void ids_match_whole_or_by_prefix(void **state)
{
	struct paper p = paper("T", NULL, NULL, "2410.07177");
	struct paper old = paper("T", NULL, NULL, "math.GT/0309136");
	struct paper none = paper("T", NULL, NULL, NULL);

	(void)state;
	assert_string_equal(hits("id:2410.07177", &p), "2410.07177 id \"2410.07177\"");
	assert_null(hits("id:2410.0717", &p) ? "" : NULL);
	assert_null(hits("id:2410.07178", &p));
	assert_non_null(hits("id:2410.*", &p));
	assert_non_null(hits("id:2410.0717*", &p));
	assert_non_null(hits("id:2410.07177*", &p));
	assert_null(hits("id:2411.*", &p));
	assert_non_null(hits("id:math.gt/0309136", &old));
	assert_non_null(hits("id:MATH.*", &old));
	assert_null(hits("id:2410.*", &none));
}

static void boolean_operators_combine_terms(void **state)
{
	(void)state;
	assert_true(matches("agent AND robot", "robot agent"));
	assert_false(matches("agent AND robot", "agent"));
	assert_true(matches("agent robot", "robot and agent"));
	assert_true(matches("agent OR robot", "robot"));
	assert_false(matches("agent OR robot", "drone"));
	assert_true(matches("agent -survey", "agent study"));
	assert_false(matches("agent -survey", "agent survey"));
	assert_false(matches("agent NOT survey", "A Survey of Agents"));
	assert_true(matches("(agent OR robot) -(survey OR review)", "robot"));
	assert_false(matches("(agent OR robot) -(survey OR review)", "robot review"));
	/* OR binds tighter than AND, as in search boxes: a OR b c is (a OR b) c. */
	assert_false(matches("a OR b c", "a"));
	assert_true(matches("a OR b c", "b c"));
	assert_true(matches("a OR (b c)", "a"));
	assert_true(matches("title:agent* OR \"tool use\" -survey", "Tool use"));
	assert_false(matches("title:agent* OR \"tool use\" -survey",
			     "A Survey of LLM-based Autonomous Agents"));
}

static void pure_negations_match_papers_without_the_term(void **state)
{
	(void)state;
	assert_true(matches("-survey", "agents"));
	assert_false(matches("-survey", "a survey"));
	assert_true(matches("NOT (survey OR review)", "agents"));
	assert_true(matches("agent OR NOT survey", "robots"));
	assert_string_equal(hits("-survey", &(struct paper){.title = "x"}), "");
}

static void regular_expressions_are_caseless_and_searched_per_field(void **state)
{
	const char *authors[] = {"Diffusion Policy", NULL};
	struct paper p = paper("Diffusion Policy learning", "a diffusion model is used", authors,
			       "2410.07177");

	(void)state;
	assert_string_equal(hits("/diffusion (model|policy)/", &p),
			    "/diffusion (model|policy)/ title \"Diffusion Policy\"; "
			    "/diffusion (model|policy)/ author[0] \"Diffusion Policy\"; "
			    "/diffusion (model|policy)/ abstract \"diffusion model\"");
	assert_string_equal(hits("abstract:/d\\w+n/", &p), "/d\\w+n/ abstract \"diffusion\"");
	assert_null(hits("title:/diffusion model/", &p));
	assert_null(hits("/policy learning model/", &p));
	assert_non_null(hits("/^diff/", &p));
	assert_non_null(hits("id:/^2410\\./", &p));
	assert_null(hits("/2410/", &p)); /* the id only with id: */
	assert_null(hits("-/diffusion/", &p));
	assert_non_null(hits("-/transformer/", &p));
	assert_non_null(hits("/[xyz]|learn/", &p)); /* no literal: run on every paper */
	assert_non_null(hits("/ß|strasse/ OR /\\bPOLICY\\b/", &p));
}

static void regex_literals_never_hide_a_caseless_match(void **state)
{
	/* U+017F LONG S and U+212A KELVIN SIGN match s and k caselessly in PCRE2: the literal
	 * looked for first must not rule these papers out. */
	struct paper p = paper("Tran\xc5\xbf"
			       "former \xe2\x84\xaa"
			       "nowledge graphs",
			       NULL, NULL, NULL);

	(void)state;
	assert_non_null(hits("/transformer/", &p));
	assert_non_null(hits("/knowledge graph/", &p));
	assert_non_null(hits("/TRANSFORMER/ /Knowledge/", &p));
}

static void hits_give_exact_byte_ranges_of_the_original_text(void **state)
{
	const char *authors[] = {"Jürgen Schmidhuber", "Sepp Hochreiter", NULL};
	struct paper p = paper("“Multi-Agent” LLMs — Tool‑Use at ＳＣＡＬＥ", "Agents use tools.",
			       authors, "2410.07177");

	(void)state;
	assert_string_equal(hits("multi-agent", &p), "multi-agent title \"Multi-Agent\"");
	assert_string_equal(hits("llm", &p), "llm title \"LLMs\"");
	assert_string_equal(hits("\"tool use\"", &p), "\"tool use\" title \"Tool‑Use\"");
	assert_string_equal(hits("scale", &p), "scale title \"ＳＣＡＬＥ\"");
	assert_string_equal(hits("agent*", &p),
			    "agent* title \"Agent\"; agent* abstract \"Agents\"");
	assert_string_equal(hits("author:jurgen OR author:jürgen", &p),
			    "jürgen author[0] \"Jürgen\"");
	assert_string_equal(
		hits("hochreiter tool", &p),
		"hochreiter author[1] \"Hochreiter\"; tool title \"Tool\"; tool abstract "
		"\"tools\"");
	assert_string_equal(hits("id:2410.*", &p), "2410.* id \"2410.07177\"");
}

static void only_positive_terms_are_reported_in_term_order(void **state)
{
	struct paper p = paper("agents and robots", "a robot survey", NULL, NULL);

	(void)state;
	assert_string_equal(hits("robot agent -drone", &p),
			    "robot title \"robots\"; robot abstract \"robot\"; agent title "
			    "\"agents\"");
	assert_string_equal(hits("agent OR NOT survey", &p), "agent title \"agents\"");
	assert_string_equal(hits("NOT NOT robot", &p),
			    "robot title \"robots\"; robot abstract \"robot\"");
	/* A positive term that hit is reported even when the rule matched without it. */
	assert_string_equal(hits("agent OR (drone AND survey)", &p),
			    "agent title \"agents\"; survey abstract \"survey\"");
}

/* Counts calls and remembers the rules, for the tests of many rules at once. */
static void collect(void *ctx, unsigned rule, const struct match_hit *h, size_t n)
{
	struct seen *s = ctx;
	size_t o = strlen(s->rules);

	(void)h;
	(void)n;
	snprintf(s->rules + o, sizeof(s->rules) - o, "%s%u", o ? " " : "", rule);
}

static void rules_are_reported_in_order_and_share_terms(void **state)
{
	static const char *const rules[] = {"robot",  "agent",          "drone",  "agent*",
					    "-robot", "agent OR drone", "/agen/", "\"agents and\""};
	struct paper p = paper("Agents and tools", NULL, NULL, NULL);
	struct matcher *m = matcher_new();
	struct query_error qe;
	struct seen s = {0};

	(void)state;
	for (int i = 0; i < 8; i++)
		assert_int_equal(matcher_add(m, rules[i], &qe), i);
	assert_int_equal(matcher_count(m), 8);
	matcher_compile(m);
	assert_int_equal(matcher_match(m, &p, false, collect, &s), 6);
	assert_string_equal(s.rules, "1 3 4 5 6 7");
	/* A rule added after compiling is compiled in on the next match. */
	assert_int_equal(matcher_add(m, "tool", &qe), 8);
	memset(&s, 0, sizeof(s));
	assert_int_equal(matcher_match(m, &p, true, collect, &s), 7);
	assert_string_equal(s.rules, "1 3 4 5 6 7 8");
	matcher_free(m);
}

static void many_rules_and_papers_reuse_the_scratch_space(void **state)
{
	struct matcher *m = matcher_new();
	struct query_error qe;
	char q[64], title[64];

	(void)state;
	for (int i = 0; i < 3000; i++) {
		snprintf(q, sizeof(q), i % 3 ? "word%d" : "\"word%d next\"", i);
		assert_int_equal(matcher_add(m, q, &qe), i);
	}
	for (int i = 0; i < 3000; i++) {
		struct paper p = paper(title, NULL, NULL, NULL);
		struct seen s = {0};

		snprintf(title, sizeof(title), "Word%d next word%d", i, (i + 1) % 3000);
		assert_int_equal(matcher_match(m, &p, i % 2, collect, &s), 1 + ((i + 1) % 3 != 0));
	}
	matcher_free(m);
}

static void term_text_count_and_field_names_answer_for_any_index(void **state)
{
	struct matcher *m = matcher_new();
	struct query_error qe;

	(void)state;
	assert_int_equal(matcher_add(m, "title:agent* OR \"tool use\" -/surv(ey)?/", &qe), 0);
	assert_int_equal(matcher_term_count(m, 0), 3);
	assert_string_equal(matcher_term_text(m, 0, 0), "agent*");
	assert_string_equal(matcher_term_text(m, 0, 1), "\"tool use\"");
	assert_string_equal(matcher_term_text(m, 0, 2), "/surv(ey)?/");
	assert_null(matcher_term_text(m, 0, 3));
	assert_null(matcher_term_text(m, 1, 0));
	assert_int_equal(matcher_term_count(m, 1), 0);
	assert_string_equal(match_field_name(MATCH_TITLE), "title");
	assert_string_equal(match_field_name(MATCH_AUTHORS), "author");
	assert_string_equal(match_field_name(MATCH_ABSTRACT), "abstract");
	assert_string_equal(match_field_name(MATCH_ID), "id");
	matcher_free(m);
	matcher_free(NULL);
}

static void bad_rules_are_refused_and_leave_the_matcher_as_it_was(void **state)
{
	struct matcher *m = matcher_new();
	struct query_error qe;
	struct paper p = paper("agent", NULL, NULL, NULL);

	(void)state;
	assert_int_equal(matcher_check("agent AND", &qe), -1);
	assert_int_equal(qe.column, 7);
	assert_int_equal(matcher_check("title:agent", &qe), 0);
	assert_int_equal(matcher_add(m, "agent", &qe), 0);
	assert_int_equal(matcher_add(m, "foo:bar", &qe), -1);
	assert_non_null(strstr(qe.msg, "title, author, abstract and id"));
	assert_int_equal(matcher_add(m, "/(/", &qe), -1);
	assert_int_equal(matcher_add(m, "agent*", &qe), 1);
	assert_int_equal(matcher_count(m), 2);
	assert_int_equal(matcher_match(m, &p, true, NULL, NULL), 2);
	matcher_free(m);
}

static void papers_with_missing_fields_are_matched_on_what_they_have(void **state)
{
	struct paper p = {.title = "Only a title"};
	const char *empty[] = {"", NULL};
	struct paper q = paper("", "", empty, "");

	(void)state;
	assert_non_null(hits("title", &p));
	assert_null(hits("author:x OR abstract:x OR id:2410.*", &p));
	assert_null(hits("x OR /x/ OR id:2410.*", &q));
}

/* Whether the rule can match only papers with authors. */
static bool needs_authors(const char *query)
{
	struct matcher *m = matcher_new();
	struct query_error qe;
	bool needs;

	if (matcher_add(m, query, &qe) != 0)
		fail_msg("%s: column %u: %s", query, qe.column, qe.msg);
	needs = matcher_needs_field(m, 0, MATCH_AUTHORS);
	matcher_free(m);
	return needs;
}

static void a_rule_that_needs_authors_is_told_from_one_that_does_not(void **state)
{
	(void)state;
	assert_true(needs_authors("author:levine"));
	assert_true(needs_authors("author:\"Sergey Levine\" robot"));
	assert_true(needs_authors("author:(levine OR finn)"));
	assert_true(needs_authors("--author:levine"));
	assert_true(needs_authors("(author:levine OR author:finn) -title:survey"));
	assert_false(needs_authors("author:levine OR title:robot"));
	assert_false(needs_authors("-author:levine"));
	assert_false(needs_authors("robot"));
	assert_false(needs_authors("title:robot -author:levine"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(words_match_themselves_and_their_plurals),
		cmocka_unit_test(like_terms_hold_by_the_answer_for_their_rule),
		cmocka_unit_test(a_rule_that_needs_authors_is_told_from_one_that_does_not),
		cmocka_unit_test(words_never_match_longer_words),
		cmocka_unit_test(prefixes_match_words_that_start_with_them),
		cmocka_unit_test(phrases_match_consecutive_words_across_punctuation),
		cmocka_unit_test(phrases_never_span_two_authors_or_two_fields),
		cmocka_unit_test(cjk_terms_match_inside_running_text),
		cmocka_unit_test(nfkc_and_case_folding_make_width_and_case_irrelevant),
		cmocka_unit_test(few_rules_skip_only_papers_that_none_can_match),
		cmocka_unit_test(the_sieve_finds_a_key_at_every_offset),
		cmocka_unit_test(fields_say_where_a_term_is_searched),
		cmocka_unit_test(ids_match_whole_or_by_prefix),
		cmocka_unit_test(boolean_operators_combine_terms),
		cmocka_unit_test(pure_negations_match_papers_without_the_term),
		cmocka_unit_test(regular_expressions_are_caseless_and_searched_per_field),
		cmocka_unit_test(regex_literals_never_hide_a_caseless_match),
		cmocka_unit_test(hits_give_exact_byte_ranges_of_the_original_text),
		cmocka_unit_test(only_positive_terms_are_reported_in_term_order),
		cmocka_unit_test(rules_are_reported_in_order_and_share_terms),
		cmocka_unit_test(many_rules_and_papers_reuse_the_scratch_space),
		cmocka_unit_test(term_text_count_and_field_names_answer_for_any_index),
		cmocka_unit_test(bad_rules_are_refused_and_leave_the_matcher_as_it_was),
		cmocka_unit_test(papers_with_missing_fields_are_matched_on_what_they_have),
	};

	return cmocka_run_group_tests_name("match", tests, NULL, NULL);
}
