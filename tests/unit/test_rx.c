/*
 * test_rx.c — regular-expression terms: PCRE2's options, refused patterns, and the literal every
 * match must contain, including the assumption behind it (which ASCII letters PCRE2 matches
 * caselessly to characters beyond ASCII: the matcher must treat text holding those with care).
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "unit.h"

#include <pcre2.h>
#include <utf8proc.h>

#include "match/rx.h"

/* The literal of pattern p, or "" when it has none. */
static const char *literal(const char *p)
{
	static char out[256];
	char msg[128];
	size_t at, len;
	struct rx *r = rx_compile(p, strlen(p), &at, msg, sizeof(msg));
	const char *lit;

	assert_non_null(r);
	lit = rx_literal(r, &len);
	snprintf(out, sizeof(out), "%.*s", lit ? (int)len : 0, lit ? lit : "");
	rx_free(r);
	return out;
}

static void literal_is_the_longest_required_run_lower_cased(void **state)
{
	(void)state;
	assert_string_equal(literal("Diffusion (model|policy)"), "diffusion ");
	assert_string_equal(literal("graph neural net(work)?"), "graph neural net");
	assert_string_equal(literal("\\bTransformer\\b"), "transformer");
	assert_string_equal(literal("colou?r theory"), "r theory");
	assert_string_equal(literal("[Bb]ayesian optimi[sz]ation"), "ayesian optimi");
	assert_string_equal(literal("llama-?[23]"), "llama");
	assert_string_equal(literal("abc{2,3}defgh"), "defgh");
}

static void literal_is_refused_where_the_reading_is_unsure(void **state)
{
	(void)state;
	assert_string_equal(literal("diffusion|transformer"), ""); /* alternation */
	assert_string_equal(literal("(?x)d i f f u s i o n"), ""); /* options */
	assert_string_equal(literal("(*UCP)abcdef"), "");          /* verbs */
	assert_string_equal(literal("(?<n>abc)\\k<n>defgh"), "");  /* named escapes */
	assert_string_equal(literal("a{b|c}defgh"), "");           /* a literal brace: '|' counts */
	assert_string_equal(literal("\\Qabcdef\\E"), "");
	assert_string_equal(literal("ab"), ""); /* too short to be worth it */
	assert_string_equal(literal("[abc]+"), "");
	assert_string_equal(literal("(abcdef)"), ""); /* groups are not read into */
}

static void literal_holds_any_ascii_letter_digit_space_or_hyphen(void **state)
{
	(void)state;
	/* k and s too: the matcher takes text with U+212A or U+017F to hold every literal. */
	assert_string_equal(literal("transformers"), "transformers");
	assert_string_equal(literal("Knowledge-Graph 2"), "knowledge-graph 2");
	assert_string_equal(literal("a.b_cdef"), "cdef");
}

/* Every non-ASCII character once, as UTF-8: the text a caseless ASCII letter must not match. */
static char *all_non_ascii(size_t *len)
{
	char *buf = malloc(4 * 0x110000);
	size_t n = 0;

	for (int32_t c = 0x80; c < 0x110000; c++) {
		if (c >= 0xd800 && c <= 0xdfff)
			continue;
		n += (size_t)utf8proc_encode_char(c, (utf8proc_uint8_t *)buf + n);
	}
	*len = n;
	return buf;
}

static void only_k_and_s_match_characters_beyond_ascii_caselessly(void **state)
{
	size_t n, at, a, b;
	char *text = all_non_ascii(&n), msg[128];

	(void)state;
	for (char c = 'a'; c <= 'z'; c++) {
		struct rx *r = rx_compile(&c, 1, &at, msg, sizeof(msg));

		assert_non_null(r);
		if (c == 'k' || c == 's')
			assert_true(rx_find(r, text, n, 0, &a, &b));
		else
			assert_false(rx_find(r, text, n, 0, &a, &b));
		rx_free(r);
	}
	free(text);
}

static void matching_is_caseless_unicode_and_finds_whole_characters(void **state)
{
	static const char text[] = "Über GROSSE Diffusion Policy — ÉCOLE";
	char msg[128];
	size_t at, a, b;
	struct rx *r = rx_compile("diffusion (model|policy)", 24, &at, msg, sizeof(msg));

	(void)state;
	assert_true(rx_find(r, text, strlen(text), 0, &a, &b));
	assert_int_equal(a, 13);
	assert_int_equal(b, 29);
	assert_false(rx_find(r, text, strlen(text), 14, &a, &b));
	rx_free(r);
	r = rx_compile("\\bécole\\b", strlen("\\bécole\\b"), &at, msg, sizeof(msg));
	assert_true(rx_find(r, text, strlen(text), 0, &a, &b));
	assert_int_equal(b, strlen(text));
	rx_free(r);
	r = rx_compile("\\w+", 3, &at, msg, sizeof(msg));
	assert_true(rx_find(r, text, strlen(text), 0, &a, &b));
	assert_int_equal(a, 0);
	assert_int_equal(b, strlen("Über"));
	rx_free(r);
}

static void patterns_that_match_empty_text_are_refused(void **state)
{
	char msg[128];
	size_t at = 99;

	(void)state;
	assert_null(rx_compile("a*", 2, &at, msg, sizeof(msg)));
	assert_int_equal(at, 0);
	assert_non_null(strstr(msg, "empty text"));
	assert_null(rx_compile("\\b", 2, &at, msg, sizeof(msg)));
	assert_null(rx_compile("x|", 2, &at, msg, sizeof(msg)));
}

static void bsk_is_refused_with_its_offset(void **state)
{
	char msg[128];
	size_t at;

	(void)state;
	assert_null(rx_compile("foo\\Kbar", 8, &at, msg, sizeof(msg)));
	assert_int_equal(at, 3);
	assert_non_null(strstr(msg, "\\K"));
}

static void syntax_errors_give_pcre2s_message_and_offset(void **state)
{
	char msg[128];
	size_t at;

	(void)state;
	assert_null(rx_compile("diffusion (model", 16, &at, msg, sizeof(msg)));
	assert_int_equal(at, 16);
	assert_non_null(strstr(msg, "missing closing parenthesis"));
	assert_null(rx_compile("a[b", 3, &at, msg, sizeof(msg)));
	assert_non_null(strstr(msg, "missing terminating ]"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(literal_is_the_longest_required_run_lower_cased),
		cmocka_unit_test(literal_is_refused_where_the_reading_is_unsure),
		cmocka_unit_test(literal_holds_any_ascii_letter_digit_space_or_hyphen),
		cmocka_unit_test(only_k_and_s_match_characters_beyond_ascii_caselessly),
		cmocka_unit_test(matching_is_caseless_unicode_and_finds_whole_characters),
		cmocka_unit_test(patterns_that_match_empty_text_are_refused),
		cmocka_unit_test(bsk_is_refused_with_its_offset),
		cmocka_unit_test(syntax_errors_give_pcre2s_message_and_offset),
	};

	return cmocka_run_group_tests_name("rx", tests, NULL, NULL);
}
