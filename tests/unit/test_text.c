/*
 * test_text.c — folding and cutting text into words: the ASCII path and the Unicode one, the
 * original byte ranges of words, scripts without spaces, and the word rule for plurals.
 */
#include "unit.h"

#include "match/text.h"

/* The words of s as "folded@start-end" joined by spaces, in a static buffer. */
static const char *cut(const char *s)
{
	static char out[4096];
	struct text_words tw;
	size_t o = 0;

	text_words_init(&tw);
	text_cut(&tw, s, strlen(s), 0);
	out[0] = '\0';
	for (size_t i = 0; i < tw.n; i++) {
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%.*s@%u-%u%s", i ? " " : "",
				      (int)tw.w[i].len, text_word_bytes(&tw, i), tw.w[i].start,
				      tw.w[i].end, (tw.w[i].flags & TEXT_WORD_NOSPACE) ? "!" : "");
	}
	text_words_free(&tw);
	return out;
}

static void ascii_is_cut_at_every_non_alphanumeric_and_lower_cased(void **state)
{
	(void)state;
	assert_string_equal(cut("Multi-Agent RL, v2.0!"),
			    "multi@0-5 agent@6-11 rl@12-14 v2@16-18 0@19-20");
	assert_string_equal(cut("  GPT-4o_mini's  "), "gpt@2-5 4o@6-8 mini@9-13 s@14-15");
	assert_string_equal(cut(""), "");
	assert_string_equal(cut("+++ --- ..."), "");
}

static void fullwidth_and_ligatures_fold_by_nfkc(void **state)
{
	(void)state;
	/* Ｌ Ｌ Ｍ are three bytes each: the word covers all nine. */
	assert_string_equal(cut("ＬＬＭｓ"), "llms@0-12");
	assert_string_equal(cut("e\xef\xac\x81ne"), "efine@0-6"); /* the ﬁ ligature */
	assert_string_equal(cut("x\xc2\xb2"), "x2@0-3");          /* superscript two */
}

static void case_folding_is_full_unicode_folding(void **state)
{
	(void)state;
	assert_string_equal(cut("STRASSE Straße"), "strasse@0-7 strasse@8-15");
	assert_string_equal(cut("ΣΟΦΊΑ"), "σοφία@0-10");
	assert_string_equal(cut("Arık"), "arık@0-5");
}

static void combining_marks_compose_with_the_letter_before(void **state)
{
	(void)state;
	/* "café" written with a combining acute folds like the precomposed one. */
	assert_string_equal(cut("cafe\xcc\x81 caf\xc3\xa9"), "caf\xc3\xa9@0-6 caf\xc3\xa9@7-12");
	/* A mark with no letter before it is no word. */
	assert_string_equal(cut(" \xcc\x81 "), "");
	/* Devanagari vowel signs are marks: the word is not cut at them. */
	assert_string_equal(cut("हिन्दी"), "हिन्दी@0-18");
}

static void each_cjk_character_is_a_word_of_its_own(void **state)
{
	(void)state;
	assert_string_equal(cut("大语言模型"), "大@0-3! 语@3-6! 言@6-9! 模@9-12! 型@12-15!");
	assert_string_equal(cut("LLM模型s"), "llm@0-3 模@3-6! 型@6-9! s@9-10");
	assert_string_equal(
		cut("ひらがなカタカナ"),
		"ひ@0-3! ら@3-6! が@6-9! な@9-12! カ@12-15! タ@15-18! カ@18-21! ナ@21-24!");
	assert_string_equal(cut("한국어"), "한@0-3! 국@3-6! 어@6-9!");
	/* Ideographic punctuation cuts like any punctuation. */
	assert_string_equal(cut("模型，检索。"), "模@0-3! 型@3-6! 检@9-12! 索@12-15!");
}

static void nospace_ranges_cover_the_scripts_and_nothing_else(void **state)
{
	(void)state;
	assert_true(text_is_nospace(0x4e00));  /* 一 */
	assert_true(text_is_nospace(0x3042));  /* あ */
	assert_true(text_is_nospace(0x30ab));  /* カ */
	assert_true(text_is_nospace(0xac00));  /* 가 */
	assert_true(text_is_nospace(0x20000)); /* Extension B */
	assert_false(text_is_nospace('a'));
	assert_false(text_is_nospace(0x00e9)); /* é */
	assert_false(text_is_nospace(0x0915)); /* क */
	assert_false(text_is_nospace(0x3002)); /* 。 is in the CJK block but is punctuation */
}

static void characters_folded_to_ascii_letters_are_counted(void **state)
{
	struct text_words tw;

	(void)state;
	text_words_init(&tw);
	text_cut(&tw, "Transformer caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d", 25, 0);
	assert_int_equal(tw.n_to_ascii, 0);
	text_cut(&tw,
		 "Tran\xc5\xbf"
		 "former \xe2\x84\xaa"
		 "elvin \xef\xbc\xa1",
		 25, 0);
	assert_int_equal(tw.n_to_ascii, 3); /* long s, Kelvin sign, full-width A */
	text_words_clear(&tw);
	assert_int_equal(tw.n_to_ascii, 0);
	text_words_free(&tw);
}

static void soft_hyphens_vanish_and_do_not_cut(void **state)
{
	(void)state;
	assert_string_equal(cut("inter\xc2\xadnational"), "international@0-15");
}

static void fractions_give_two_words_over_the_same_character(void **state)
{
	(void)state;
	assert_string_equal(cut("\xc2\xbd"), "1@0-2 2@0-2");
}

static void ill_formed_utf8_cuts_like_punctuation(void **state)
{
	(void)state;
	assert_string_equal(cut("ab\xff"
				"cd\xe4\xb8"),
			    "ab@0-2 cd@3-5");
}

static void ascii_before_other_characters_keeps_exact_ranges(void **state)
{
	(void)state;
	assert_string_equal(cut("a\xe2\x80\x9cquoted\xe2\x80\x9d b"), "a@0-1 quoted@4-10 b@14-15");
	assert_string_equal(cut("x—y"), "x@0-1 y@4-5");
}

static void long_ascii_text_takes_the_vector_path_unchanged(void **state)
{
	char buf[300];

	(void)state;
	memset(buf, 'A', 200);
	memcpy(buf + 200, " end", 5);
	assert_int_equal(strlen(cut(buf)), strlen("@0-200 end@201-204") + 200);
	assert_int_equal(strncmp(cut(buf), "aaaa", 4), 0);
}

/* Asserts that s cut after k spaces gives the same words, k bytes later, for every k up to 32:
 * the sixteen-byte blocks then fall elsewhere in the text. */
static void same_words_wherever_blocks_fall(const char *s)
{
	struct text_words ref, tw;
	char buf[1024];

	text_words_init(&ref);
	text_words_init(&tw);
	text_cut(&ref, s, strlen(s), 0);
	for (size_t k = 1; k <= 32; k++) {
		memset(buf, ' ', k);
		snprintf(buf + k, sizeof(buf) - k, "%s", s);
		text_words_clear(&tw);
		text_cut(&tw, buf, strlen(buf), 0);
		assert_int_equal(tw.n, ref.n);
		for (size_t i = 0; i < ref.n; i++) {
			assert_int_equal(tw.w[i].len, ref.w[i].len);
			assert_memory_equal(text_word_bytes(&tw, i), text_word_bytes(&ref, i),
					    ref.w[i].len);
			assert_int_equal(tw.w[i].start, ref.w[i].start + k);
			assert_int_equal(tw.w[i].end, ref.w[i].end + k);
			assert_int_equal(tw.w[i].flags, ref.w[i].flags);
		}
	}
	text_words_free(&ref);
	text_words_free(&tw);
}

static void words_do_not_depend_on_where_vector_blocks_fall(void **state)
{
	(void)state;
	same_words_wherever_blocks_fall("Retrieval-Augmented Generation (RAG), while effective, "
					"can be misled; Reasoning-intensive.");
	same_words_wherever_blocks_fall(
		"naïve naïveté Straße CAFE\xcc\x81 caféterias éééééééé"
		"ééééééé ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef inter\xc2\xadnational");
	same_words_wherever_blocks_fall("abcdefghijklmnopqrstuvwxyz模型abcdefghijklmnopqrstuvwxyz"
					"ＬＬＭabcdefghijklmnopq½rstuvwxyz0123456789 x");
	same_words_wherever_blocks_fall("a b c d e f g h i j k l m n o p q r s t u v w x y z");
	same_words_wherever_blocks_fall("");
}

static void verbatim_words_are_lower_cased_and_not_cut(void **state)
{
	struct text_words tw;

	(void)state;
	text_words_init(&tw);
	text_add_verbatim(&tw, "math.GT/0309136", 15, 3);
	assert_int_equal(tw.n, 1);
	assert_int_equal(tw.w[0].seg, 3);
	assert_int_equal(tw.w[0].end, 15);
	assert_memory_equal(text_word_bytes(&tw, 0), "math.gt/0309136", 15);
	text_words_free(&tw);
}

/* text_word_is with q and t as strings. */
static bool is(const char *q, const char *t)
{
	return text_word_is(q, strlen(q), false, false, t, strlen(t));
}

static void words_match_themselves_and_their_plurals_only(void **state)
{
	(void)state;
	assert_true(is("agent", "agent"));
	assert_true(is("agent", "agents"));
	assert_true(is("llm", "llms"));
	assert_true(is("class", "classes"));
	assert_true(is("box", "boxes"));
	assert_true(is("match", "matches"));
	assert_true(is("hero", "heroes"));
	assert_false(is("agent", "agentes"));
	assert_false(is("rag", "rages"));
	assert_false(is("rag", "ragged"));
	assert_false(is("rag", "storage"));
	assert_false(is("agents", "agent"));
	assert_false(is("agent", "agentic"));
	assert_true(text_word_is("agent", 5, false, true, "agentic", 7));
	assert_false(text_word_is("agent", 5, false, true, "agen", 4));
	assert_false(text_word_is("模", 3, true, false, "模s", 4));
}

static void es_follows_sibilants_and_o(void **state)
{
	(void)state;
	assert_true(text_takes_es("bus", 3));
	assert_true(text_takes_es("fox", 3));
	assert_true(text_takes_es("quiz", 4));
	assert_true(text_takes_es("search", 6));
	assert_true(text_takes_es("dish", 4));
	assert_true(text_takes_es("potato", 6));
	assert_false(text_takes_es("rag", 3));
	assert_false(text_takes_es("graph", 5));
	assert_false(text_takes_es("", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ascii_is_cut_at_every_non_alphanumeric_and_lower_cased),
		cmocka_unit_test(fullwidth_and_ligatures_fold_by_nfkc),
		cmocka_unit_test(case_folding_is_full_unicode_folding),
		cmocka_unit_test(combining_marks_compose_with_the_letter_before),
		cmocka_unit_test(each_cjk_character_is_a_word_of_its_own),
		cmocka_unit_test(nospace_ranges_cover_the_scripts_and_nothing_else),
		cmocka_unit_test(characters_folded_to_ascii_letters_are_counted),
		cmocka_unit_test(soft_hyphens_vanish_and_do_not_cut),
		cmocka_unit_test(fractions_give_two_words_over_the_same_character),
		cmocka_unit_test(ill_formed_utf8_cuts_like_punctuation),
		cmocka_unit_test(ascii_before_other_characters_keeps_exact_ranges),
		cmocka_unit_test(long_ascii_text_takes_the_vector_path_unchanged),
		cmocka_unit_test(words_do_not_depend_on_where_vector_blocks_fall),
		cmocka_unit_test(verbatim_words_are_lower_cased_and_not_cut),
		cmocka_unit_test(words_match_themselves_and_their_plurals_only),
		cmocka_unit_test(es_follows_sibilants_and_o),
	};

	return cmocka_run_group_tests_name("text", tests, NULL, NULL);
}
