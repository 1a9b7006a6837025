/*
 * test_idset.c — the set of ids emitted: adding, finding, growth, ids that share a prefix.
 */
#include "unit.h"

#include "parse/idset.h"

static void put_then_has_across_growth(void **state)
{
	static char ids[5000][24];
	struct idset s;
	bool existed;

	(void)state;
	idset_init(&s);
	assert_false(idset_has(&s, "2410.00001", 10));
	for (int i = 0; i < 5000; i++) {
		snprintf(ids[i], sizeof(ids[i]), "2410.%05d", i);
		idset_put(&s, ids[i], strlen(ids[i]), &existed);
		assert_false(existed);
	}
	assert_int_equal(s.count, 5000);
	for (int i = 0; i < 5000; i++)
		assert_true(idset_has(&s, ids[i], strlen(ids[i])));
	assert_false(idset_has(&s, "2410.05000", 10));
	/* Adding again finds the first. */
	assert_ptr_equal(*idset_put(&s, "2410.00042", 10, &existed), ids[42]);
	assert_true(existed);
	assert_int_equal(s.count, 5000);
	idset_free(&s);
}

static void an_id_is_not_its_prefix_or_a_longer_one(void **state)
{
	static const char text[] = "hep-th/9901001v2";
	char copy[] = "hep-th/9901001";
	const char **kept;
	struct idset s;
	bool existed;

	(void)state;
	idset_init(&s);
	idset_reserve(&s, 100);
	/* The key is len bytes of a longer text; what the set keeps is the caller's copy. */
	kept = idset_put(&s, text, 14, &existed);
	*kept = copy;
	assert_false(existed);
	assert_true(idset_has(&s, "hep-th/9901001", 14));
	assert_false(idset_has(&s, "hep-th/990100", 13));
	assert_false(idset_has(&s, text, 16));
	assert_false(idset_has(&s, "", 0));
	idset_free(&s);
	idset_free(&s); /* freeing twice is a no-op */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(put_then_has_across_growth),
		cmocka_unit_test(an_id_is_not_its_prefix_or_a_longer_one),
	};

	return cmocka_run_group_tests_name("idset", tests, NULL, NULL);
}
