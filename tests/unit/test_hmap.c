/*
 * test_hmap.c — the string map: insertion, lookup, growth, clearing, keys that are not
 * NUL-terminated.
 */
#include "unit.h"

#include "hmap.h"

static void put_then_get_across_growth(void **state)
{
	static char keys[5000][12];
	struct hmap m;
	bool existed;

	(void)state;
	hmap_init(&m);
	for (uint32_t i = 0; i < 5000; i++) {
		snprintf(keys[i], sizeof(keys[i]), "key%u", i);
		hmap_put(&m, keys[i], strlen(keys[i]), &existed)->value = i;
		assert_false(existed);
	}
	assert_int_equal(m.count, 5000);
	for (uint32_t i = 0; i < 5000; i++)
		assert_int_equal(*hmap_get(&m, keys[i], strlen(keys[i])), i);
	assert_null(hmap_get(&m, "key5000", 7));
	hmap_put(&m, keys[42], strlen(keys[42]), &existed)->value += 1;
	assert_true(existed);
	assert_int_equal(*hmap_get(&m, "key42", 5), 43);
	hmap_free(&m);
}

static void keys_are_byte_ranges_not_strings(void **state)
{
	static const char text[] = "agent agents";
	struct hmap m;
	bool existed;

	(void)state;
	hmap_init(&m);
	hmap_put(&m, text, 5, &existed)->value = 1;
	hmap_put(&m, text + 6, 6, &existed)->value = 2;
	assert_false(existed);
	assert_int_equal(*hmap_get(&m, "agent", 5), 1);
	assert_int_equal(*hmap_get(&m, "agents", 6), 2);
	assert_null(hmap_get(&m, "agen", 4));
	assert_null(hmap_get(&m, "", 0));
	hmap_free(&m);
}

static void clear_empties_the_map_and_it_fills_again(void **state)
{
	static char keys[100][8];
	struct hmap m;
	bool existed;

	(void)state;
	hmap_init(&m);
	hmap_clear(&m); /* an empty map */
	for (int round = 0; round < 3; round++) {
		for (uint32_t i = 0; i < 100; i++) {
			snprintf(keys[i], sizeof(keys[i]), "k%u", i);
			hmap_put(&m, keys[i], strlen(keys[i]), &existed)->value = i;
			assert_false(existed);
		}
		assert_int_equal(*hmap_get(&m, "k99", 3), 99);
		hmap_clear(&m);
		assert_int_equal(m.count, 0);
		assert_null(hmap_get(&m, "k99", 3));
	}
	/* Slots mostly unused go: a map that held 100 keys does not keep them for 2. */
	hmap_put(&m, "a", 1, &existed);
	hmap_put(&m, "b", 1, &existed);
	hmap_clear(&m);
	assert_null(m.slots);
	hmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(put_then_get_across_growth),
		cmocka_unit_test(keys_are_byte_ranges_not_strings),
		cmocka_unit_test(clear_empties_the_map_and_it_fills_again),
	};

	return cmocka_run_group_tests_name("hmap", tests, NULL, NULL);
}
