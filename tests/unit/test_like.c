/*
 * test_like.c — the similarity score: in [0, 1], the same for the same inputs, higher for a
 * paper on the library's topic than off it, stems and bigrams shared, the explanation naming the
 * closest library paper and the terms shared with it, the words every paper seen has counting
 * less, and an empty library scoring nothing.
 */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_paper_on_topic_scores_above_one_off_it),
		cmocka_unit_test(the_explanation_names_the_closest_paper_and_shared_terms),
		cmocka_unit_test(a_copy_of_the_only_library_paper_scores_near_one),
		cmocka_unit_test(words_every_paper_seen_has_count_less_for_the_library),
		cmocka_unit_test(an_empty_library_scores_nothing),
	};

	return cmocka_run_group_tests_name("like", tests, NULL, NULL);
}
