/*
 * test_arena.c — the bump allocator: alignment, big objects, reset, and the spare chunks freed
 * arenas leave for the next one.
 */
#include "unit.h"

#include <stdalign.h>

#include "arena.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

static void allocations_are_aligned_and_apart(void **state)
{
	struct arena a;
	char *p[200];

	(void)state;
	arena_init(&a);
	for (int i = 0; i < 200; i++) {
		p[i] = arena_alloc(&a, (size_t)i * 37 + 1);
		assert_int_equal((uintptr_t)p[i] % alignof(max_align_t), 0);
		memset(p[i], i, (size_t)i * 37 + 1);
	}
	/* 200 objects of up to 7 KB: several chunks, none overwritten by another. */
	for (int i = 0; i < 200; i++)
		for (size_t j = 0; j < (size_t)i * 37 + 1; j++)
			assert_int_equal((unsigned char)p[i][j], i);
	assert_string_equal(arena_strndup(&a, "arXiv:2410.00001", 5), "arXiv");
	arena_free(&a);
}

static void a_big_object_leaves_the_head_filling(void **state)
{
	struct arena a;

	(void)state;
	arena_init(&a);
	char *small = arena_alloc(&a, 16);
	char *big = arena_alloc(&a, 1 << 20);
	char *next = arena_alloc(&a, 16);

	memset(big, 0xab, 1 << 20);
	/* The small objects share the first chunk: the big one got its own. */
	assert_ptr_equal(next, small + 16);
	arena_free(&a);
}

static void a_freed_arena_leaves_its_chunks_to_the_next(void **state)
{
	struct arena a, b;

	(void)state;
	arena_init(&a);
	char *first = arena_alloc(&a, 100);

	/* Fill past the first chunk, so that two are freed. */
	for (int i = 0; i < 100; i++)
		memset(arena_alloc(&a, 1000), 7, 1000);
	arena_free(&a);
#if defined(__SANITIZE_ADDRESS__)
	/* Kept, but no more usable than memory handed back to malloc. */
	assert_true(__asan_address_is_poisoned(first));
#endif
	/* The next arena starts in the first chunk again: the same memory, not pages malloc gave
	 * back to the kernel and has to fault in afresh (nor, under ASan, memory in quarantine). */
	arena_init(&b);
	char *again = arena_alloc(&b, 100);

	assert_ptr_equal(again, first);
	memset(again, 1, 100);
	arena_free(&b);
}

static void a_reset_keeps_one_chunk(void **state)
{
	struct arena a;

	(void)state;
	arena_init(&a);
	char *first = arena_alloc(&a, 100);

	memset(first, 1, 100);
	arena_reset(&a);
	/* The chunk being filled stays, emptied: the next allocation is its first byte again. */
	assert_ptr_equal(arena_alloc(&a, 100), first);
	arena_free(&a);
}

static void an_empty_copy_of_nothing_is_an_empty_string(void **state)
{
	struct arena a;
	const char *none = NULL;

	(void)state;
	arena_init(&a);
	assert_string_equal(arena_strndup(&a, none, 0), "");
	assert_string_equal(arena_strndup(&a, "abc", 2), "ab");
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(allocations_are_aligned_and_apart),
		cmocka_unit_test(a_big_object_leaves_the_head_filling),
		cmocka_unit_test(a_freed_arena_leaves_its_chunks_to_the_next),
		cmocka_unit_test(a_reset_keeps_one_chunk),
		cmocka_unit_test(an_empty_copy_of_nothing_is_an_empty_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
