/*
 * test_like.c — the similarity score: in [0, 1], the same for the same inputs, higher for a
 * paper on the library's topic than off it, stems and bigrams shared, the explanation naming the
 * closest library paper and the terms shared with it, the words every paper seen has counting
 * less, an empty library scoring nothing, and every score a number in [0, 1] however many papers
 * seen share words the library lacks.
 */
#include <math.h>

#include "unit.h"

#include "match/like.h"

static struct library_file lib(const char *text)
{
	struct library_file f;

	library_read("lib.bib", text, strlen(text), &f, NULL, NULL);
	return f;
}

static const char robots[] =
	"@article{a, title = {Diffusion Policies for Visuomotor Robot Control},\n"
	"  abstract = {We train diffusion policies that map camera images to robot actions.}}\n"
	"@article{b, title = {Learning Dexterous Manipulation from Human Videos},\n"
	"  abstract = {Robot hands learn grasping and manipulation skills from videos.}}\n"
	"@article{c, title = {Sim-to-Real Transfer for Legged Locomotion},\n"
	"  abstract = {Reinforcement learning policies trained in simulation walk on real "
	"robots.}}\n";

static void a_paper_on_topic_scores_above_one_off_it(void **state)
{
	struct library_file f = lib(robots);
	struct like *lk = like_new(&f);
	struct paper on = {.title = "A diffusion policy for robot manipulation",
			   .abstract = "Policies for robot grasping learnt with diffusion."};
	struct paper off = {.title = "Dark matter halos in dwarf galaxies",
			    .abstract = "We measure rotation curves of galaxies."};
	double a, b;

	(void)state;
	assert_int_equal(like_size(lk), 3);
	like_observe(lk, &on);
	like_observe(lk, &off);
	a = like_score(lk, &on, NULL);
	b = like_score(lk, &off, NULL);
	assert_true(a > 0.1 && a <= 1);
	assert_true(b >= 0 && b < 0.01);
	/* The same inputs, the same score. */
	assert_true(like_score(lk, &on, NULL) == a);
	like_free(lk);
	library_file_free(&f);
}

static void the_explanation_names_the_closest_paper_and_shared_terms(void **state)
{
	struct library_file f = lib(robots);
	struct like *lk = like_new(&f);
	struct paper p = {.title = "Visuomotor diffusion policies",
			  .abstract = "Camera images to actions."};
	struct like_why why;
	bool diffusion = false;
	double s;

	(void)state;
	s = like_score(lk, &p, &why);
	assert_true(s == why.score);
	assert_string_equal(why.closest, "Diffusion Policies for Visuomotor Robot Control");
	assert_true(why.closest_sim > s);
	assert_true(why.n_terms > 0 && why.n_terms <= LIKE_WHY_TERMS);
	for (size_t i = 0; i < why.n_terms; i++)
		diffusion |= strstr(why.terms[i], "diffusion") != NULL ||
			     strstr(why.terms[i], "visuomotor") != NULL;
	assert_true(diffusion);
	like_free(lk);
	library_file_free(&f);
}

static void a_copy_of_the_only_library_paper_scores_near_one(void **state)
{
	struct library_file f = lib("@misc{x, title = {Tool use in language agents},"
				    " abstract = {Agents call tools and APIs.}}");
	struct like *lk = like_new(&f);
	struct paper p = {.title = "Tool Use in Language Agents",
			  .abstract = "Agents calling tools and APIs."};

	(void)state;
	assert_true(like_score(lk, &p, NULL) > 0.9);
	like_free(lk);
	library_file_free(&f);
}

static void words_every_paper_seen_has_count_less_for_the_library(void **state)
{
	static const char *const fields[] = {"galaxies", "proteins", "markets", "compilers",
					     "glaciers", "voting",   "enzymes", "lasers"};
	struct library_file f = lib(robots);
	struct like *lk = like_new(&f);
	struct paper common = {.title = "Learning policies in simulation"};
	struct paper topic = {.title = "Robot grasping and manipulation"};
	double common_before, topic_before;
	char titles[200][64];

	(void)state;
	common_before = like_score(lk, &common, NULL);
	topic_before = like_score(lk, &topic, NULL);
	/* A stream of papers of every field, each with the library's least telling words. */
	for (size_t i = 0; i < 200; i++) {
		struct paper p = {.title = titles[i]};

		snprintf(titles[i], sizeof(titles[i]), "Learning policies in simulation for %s %zu",
			 fields[i % 8], i);
		like_observe(lk, &p);
	}
	assert_true(like_score(lk, &common, NULL) < common_before);
	assert_true(like_score(lk, &topic, NULL) > like_score(lk, &common, NULL));
	assert_true(topic_before > 0);
	like_free(lk);
	library_file_free(&f);
}

static void an_empty_library_scores_nothing(void **state)
{
	struct library_file f = lib("2410.07177\n");
	struct like *lk = like_new(&f);
	struct paper p = {.title = "Anything"};
	struct like_why why;

	(void)state;
	assert_int_equal(like_size(lk), 0);
	assert_true(like_score(lk, &p, &why) == 0);
	assert_null(why.closest);
	like_free(lk);
	library_file_free(&f);
}

/* Whether s is a score: a number in [0, 1] (NaN is not, and fails `score >= min_score`). */
static bool is_score(double s)
{
	return isfinite(s) && s >= 0 && s <= 1;
}

/* A digest's papers: every one has words no library paper has ("follow-up questions"). */
static const struct paper digest[] = {
	{.title = "Robots pre-train robots for manipulation",
	 .abstract = "A visual encoder for robot learning. Follow-up questions: what of grasping?"},
	{.title = "Dexterous manipulation with human-in-the-loop reinforcement learning",
	 .abstract = "Robots learn skills in hours. Follow-up questions: which backbones?"},
	{.title = "Unlearning in textual and visual modalities",
	 .abstract = "A synthetic dataset. Follow-up questions: how do the methods compare?"},
	{.title = "A multi-agent framework for data science competitions",
	 .abstract = "Agents complete competitions. Follow-up questions: which agents matter?"},
	{.title = "Prompting language models for social relation reasoning",
	 .abstract = "Zero-shot recognition. Follow-up questions: what does it cost?"},
	{.title = "Building multimodal web agents through exploration",
	 .abstract = "Agents improve with feedback. Follow-up questions: which failures?"},
	{.title = "Improving mathematical reasoning with online learning",
	 .abstract = "Reasoning traces from a flow of models. Follow-up questions: other tasks?"},
	{.title = "A key-value cache for long-context inference",
	 .abstract = "Throughput of long contexts. Follow-up questions: is the code public?"},
};
#define N_DIGEST (sizeof(digest) / sizeof(digest[0]))

static const char two_papers[] =
	"@article{a, title = {Diffusion Policy: Visuomotor Policy Learning via Action Diffusion},\n"
	"  abstract = {We introduce diffusion policy for robot visuomotor learning.}}\n"
	"@article{b, title = {Robot learning from demonstrations with language models}}\n";

/* `match --like` counts every paper before it scores any: fewer papers than LIKE_IDF_SEEN_MIN,
 * all sharing words a small library lacks, are each still scored, the closest on top. */
static void every_paper_seen_first_scores_a_number_against_a_small_library(void **state)
{
	struct library_file f = lib(two_papers);
	struct like *lk = like_new(&f);
	double s[N_DIGEST];

	(void)state;
	for (size_t i = 0; i < N_DIGEST; i++)
		like_observe(lk, &digest[i]);
	for (size_t i = 0; i < N_DIGEST; i++) {
		s[i] = like_score(lk, &digest[i], NULL);
		assert_true(is_score(s[i]));
	}
	assert_true(s[0] > s[2] && s[1] > s[7]);
	like_free(lk);
	library_file_free(&f);
}

/* The daemon scores each paper as it is seen: the last papers of a digest, whose words the
 * ones before had too, are scored as well as the first. */
static void each_paper_scored_as_seen_scores_a_number_against_a_small_library(void **state)
{
	struct library_file f = lib(two_papers);
	struct like *lk = like_new(&f);

	(void)state;
	for (size_t round = 0; round < 3; round++) {
		for (size_t i = 0; i < N_DIGEST; i++) {
			like_observe(lk, &digest[i]);
			assert_true(is_score(like_score(lk, &digest[i], NULL)));
		}
	}
	like_free(lk);
	library_file_free(&f);
}

/* Texts at the edges: no word that counts, a word of every paper and of the library, and three
 * words of every paper that the library lacks, found by hashing so that their stems share one of
 * the buckets that count the papers seen (a paper counts there once, not three times). */
static void no_text_gives_a_score_outside_zero_to_one(void **state)
{
	struct library_file f = lib("@misc{x, title = {Robot robot robot}}");
	struct library_file none = lib("2410.07177\n");
	struct like *lk = like_new(&f), *empty = like_new(&none);
	struct paper blank = {.title = "", .abstract = NULL};
	struct paper stop = {.title = "The and of", .abstract = "123 4567 et al."};
	struct paper robot = {.title = "Robot", .abstract = "robot"};
	struct paper shared = {.title = "Robot", .abstract = "zqgvi zqsbj zqulm"};
	struct like_why why;

	(void)state;
	for (size_t i = 0; i < 2 * LIKE_IDF_SEEN_MIN + 50; i++) {
		like_observe(lk, &shared);
		like_observe(empty, &shared);
		assert_true(is_score(like_score(lk, &shared, NULL)));
		assert_true(is_score(like_score(lk, &robot, NULL)));
		assert_true(like_score(empty, &shared, NULL) == 0);
	}
	assert_true(like_score(lk, &robot, &why) > 0 && is_score(why.closest_sim));
	assert_true(like_score(lk, &blank, &why) == 0 && why.closest == NULL);
	assert_true(like_score(lk, &stop, NULL) == 0);
	like_free(lk);
	like_free(empty);
	library_file_free(&f);
	library_file_free(&none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_paper_on_topic_scores_above_one_off_it),
		cmocka_unit_test(the_explanation_names_the_closest_paper_and_shared_terms),
		cmocka_unit_test(a_copy_of_the_only_library_paper_scores_near_one),
		cmocka_unit_test(words_every_paper_seen_has_count_less_for_the_library),
		cmocka_unit_test(an_empty_library_scores_nothing),
		cmocka_unit_test(every_paper_seen_first_scores_a_number_against_a_small_library),
		cmocka_unit_test(each_paper_scored_as_seen_scores_a_number_against_a_small_library),
		cmocka_unit_test(no_text_gives_a_score_outside_zero_to_one),
	};

	return cmocka_run_group_tests_name("like", tests, NULL, NULL);
}
