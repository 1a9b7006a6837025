/*
 * test_utf8.c — validation, repair by maximal subparts, and cutting at character boundaries.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "utf8.h"

static void valid_text_is_valid_to_the_end(void **state)
{
	static const char s[] =
		"ascii, caf\xc3\xa9, \xe6\x91\x98\xe8\xa6\x81, \xf0\x9f\x93\x84 and a "
		"long run of plain ASCII that takes the eight-byte path";

	(void)state;
	assert_int_equal(utf8_valid_prefix(s, sizeof(s) - 1), sizeof(s) - 1);
}

static void ill_formed_sequences_stop_validation(void **state)
{
	static const struct {
		const char *s;
		size_t valid;
	} cases[] = {
		{"ab\x80", 2},           /* stray continuation */
		{"ab\xc3", 2},           /* truncated at the end */
		{"\xc0\xaf", 0},         /* overlong '/' */
		{"\xe0\x80\xaf", 0},     /* overlong three-byte */
		{"x\xed\xa0\x80", 1},    /* surrogate */
		{"\xf4\x90\x80\x80", 0}, /* beyond U+10FFFF */
		{"\xf5\x80\x80\x80", 0}, /* never a lead byte */
		{"0123456789abcdef\xff", 16},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(utf8_valid_prefix(cases[i].s, strlen(cases[i].s)), cases[i].valid);
}

static void repair_replaces_each_maximal_subpart_once(void **state)
{
	/* Unicode's own example (3.9, Table 3-8): 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64. */
	static const char in[] = "\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64";
	static const char want[] = "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
				   "b\xef\xbf\xbd"
				   "c\xef\xbf\xbd\xef\xbf\xbd"
				   "d";
	size_t len, bad;
	char *out = utf8_repair(in, sizeof(in) - 1, &len, &bad);

	(void)state;
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(out, want, len);
	assert_int_equal(bad, 6);
	assert_int_equal(utf8_valid_prefix(out, len), len);
	free(out);
}

/* A small PRNG, so a failure can be replayed. */
static uint32_t rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

/* Pieces mixed into random text: valid characters of every length and every kind of error. */
static const char *const pieces[] = {
	"a",
	"plain ascii text ",
	"a run of ASCII longer than the sixty-four bytes the vector check skips at once ",
	"\xc3\xa9",
	"\xe6\x91\x98",
	"\xf0\x9f\x93\x84",
	"\xef\xbf\xbd",
	"\xed\x9f\xbf",
	"\xf4\x8f\xbf\xbf",
	"\xe0\xa0\x80",
	"\xf0\x90\x80\x80",
	/* ill-formed */
	"\x80",
	"\xbf",
	"\xc0\xaf",
	"\xc1\x80",
	"\xe0\x80\x80",
	"\xed\xa0\x80",
	"\xf0\x80\x80\x80",
	"\xf4\x90\x80\x80",
	"\xf5\x80\x80\x80",
	"\xff",
	"\xc3",
	"\xe6\x91",
	"\xf0\x9f\x93",
};

static void vector_check_agrees_with_scalar_check(void **state)
{
	char buf[700];
	uint32_t seed = 12345;

	(void)state;
	for (int round = 0; round < 20000; round++) {
		size_t n = 0;
		/* Mostly valid text, with at most one error somewhere, sometimes none. */
		int bad_at = (int)(rnd(&seed) % 80);

		for (int k = 0; n < 500; k++) {
			size_t pick = k == bad_at ? 11 + rnd(&seed) % 13 : rnd(&seed) % 11;
			size_t len = strlen(pieces[pick]);

			memcpy(buf + n, pieces[pick], len);
			n += len;
		}
		if (utf8_valid_prefix(buf, n) != utf8_valid_prefix_scalar(buf, n))
			fail_msg("round %d: vector %zu, scalar %zu", round,
				 utf8_valid_prefix(buf, n), utf8_valid_prefix_scalar(buf, n));
		if (utf8_valid_prefix_16(buf, n) != utf8_valid_prefix_scalar(buf, n))
			fail_msg("round %d: 16-byte vector %zu, scalar %zu", round,
				 utf8_valid_prefix_16(buf, n), utf8_valid_prefix_scalar(buf, n));
	}
}

static void cut_never_splits_a_character(void **state)
{
	static const char s[] = "ab\xe6\x91\x98";

	(void)state;
	assert_int_equal(utf8_cut(s, 5, 10), 5);
	assert_int_equal(utf8_cut(s, 5, 4), 2);
	assert_int_equal(utf8_cut(s, 5, 3), 2);
	assert_int_equal(utf8_cut(s, 5, 2), 2);
}

static void utf16_becomes_utf8_with_each_bad_unit_replaced(void **state)
{
	static const struct {
		const char *in; /* UTF-16 code units, little-endian */
		size_t n;
		const char *out;
		size_t bad;
	} cases[] = {
		{"A\0\xe9\0", 4, "A\xc3\xa9", 0},
		{"\xac\x20", 2, "\xe2\x82\xac", 0},             /* U+20AC */
		{"\x3d\xd8\x00\xde", 4, "\xf0\x9f\x98\x80", 0}, /* U+1F600, a pair */
		{"\x3d\xd8"
		 "A\0",
		 4,
		 "\xef\xbf\xbd"
		 "A",
		 1}, /* a lone high half */
		{"\x00\xde"
		 "A\0",
		 4,
		 "\xef\xbf\xbd"
		 "A",
		 1},                             /* a lone low half */
		{"A\0B", 3, "A\xef\xbf\xbd", 1}, /* an odd last byte */
		{"", 0, "", 0},
	};
	static const char big[] = "\xd8\x3d\xde\x00\x00"
				  "A";
	size_t len, bad;
	char *out;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out = utf8_from_utf16(cases[i].in, cases[i].n, false, &len, &bad);
		assert_int_equal(len, strlen(cases[i].out));
		assert_memory_equal(out, cases[i].out, len);
		assert_int_equal(out[len], '\0');
		assert_int_equal(bad, cases[i].bad);
		free(out);
	}
	/* Big-endian: the same units with their bytes the other way round. */
	out = utf8_from_utf16(big, sizeof(big) - 1, true, &len, &bad);
	assert_int_equal(len, 5);
	assert_memory_equal(out,
			    "\xf0\x9f\x98\x80"
			    "A",
			    5);
	assert_int_equal(bad, 0);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_text_is_valid_to_the_end),
		cmocka_unit_test(ill_formed_sequences_stop_validation),
		cmocka_unit_test(repair_replaces_each_maximal_subpart_once),
		cmocka_unit_test(vector_check_agrees_with_scalar_check),
		cmocka_unit_test(cut_never_splits_a_character),
		cmocka_unit_test(utf16_becomes_utf8_with_each_bad_unit_replaced),
	};

	return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
