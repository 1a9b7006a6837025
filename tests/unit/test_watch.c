/*
 * test_watch.c — which names in the folder are digests: the patterns, and the hidden and
 * temporary names that are never read.
 */
#include "unit.h"

#include "watch.h"

static void names_follow_the_patterns_and_skip_temporary_files(void **state)
{
	char md[] = "*.md", txt[] = "*.txt", draft[] = "draft-*";
	char *include[] = {md, txt}, *exclude[] = {draft};
	struct config_watch cfg = {.include = {include, 2}, .exclude = {exclude, 1}};

	(void)state;
	assert_true(watch_name_wanted(&cfg, "2024-10-21.md"));
	assert_true(watch_name_wanted(&cfg, "papers.txt"));
	assert_false(watch_name_wanted(&cfg, "papers.pdf"));
	assert_false(watch_name_wanted(&cfg, "draft-today.md"));
	assert_false(watch_name_wanted(&cfg, ".hidden.md"));
	assert_false(watch_name_wanted(&cfg, "digest.md.tmp"));
	assert_false(watch_name_wanted(&cfg, "digest.md.part"));
	assert_false(watch_name_wanted(&cfg, ".digest.md.swp"));
	assert_false(watch_name_wanted(&cfg, "digest.md~"));
	assert_false(watch_name_wanted(&cfg, "."));
	assert_false(watch_name_wanted(&cfg, ".."));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_follow_the_patterns_and_skip_temporary_files),
	};

	return cmocka_run_group_tests_name("watch", tests, NULL, NULL);
}
