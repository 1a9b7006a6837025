/*
 * test_loop.c — the event loop: timers fire in order and once, a timer set to fire at once
 * cannot spin, descriptors are dispatched, and an idle loop sleeps until its deadline.
 */
#include "unit.h"

#include <unistd.h>

#include "loop.h"

struct fired {
	int order[8];
	int n;
	struct loop_timer *again; /* re-armed with no delay by its own callback */
	int again_count;
};

static struct fired fired;

static void mark(void *ctx)
{
	fired.order[fired.n++] = (int)(intptr_t)ctx;
}

static void rearm_self(void *ctx)
{
	(void)ctx;
	fired.again_count++;
	loop_timer_set(fired.again, 0);
}

static void timers_fire_in_order_and_once(void **state)
{
	struct loop *l;
	struct loop_timer *a, *b, *c;
	struct err err;

	(void)state;
	memset(&fired, 0, sizeof(fired));
	assert_int_equal(loop_new(&l, &err), 0);
	a = loop_timer_new(l, mark, (void *)1);
	b = loop_timer_new(l, mark, (void *)2);
	c = loop_timer_new(l, mark, (void *)3);
	loop_timer_set(a, 0.03);
	loop_timer_set(b, 0.01);
	loop_timer_set(c, 0.02);
	loop_timer_set(c, -1); /* disarmed: never fires */
	while (fired.n < 2)
		assert_int_equal(loop_turn(l, loop_now() + 1, &err), 0);
	assert_int_equal(fired.order[0], 2);
	assert_int_equal(fired.order[1], 1);
	assert_false(loop_timer_armed(a));
	/* Nothing armed: the loop waits out its deadline and returns. */
	assert_int_equal(loop_turn(l, loop_now() + 0.05, &err), 0);
	assert_int_equal(fired.n, 2);
	loop_timer_free(a);
	loop_timer_free(b);
	loop_timer_free(c);
	loop_free(l);
}

static void a_timer_rearmed_at_once_waits_for_the_next_round(void **state)
{
	struct loop *l;
	struct err err;

	(void)state;
	memset(&fired, 0, sizeof(fired));
	assert_int_equal(loop_new(&l, &err), 0);
	fired.again = loop_timer_new(l, rearm_self, NULL);
	loop_timer_set(fired.again, 0);
	assert_int_equal(loop_turn(l, loop_now() + 1, &err), 0);
	assert_int_equal(fired.again_count, 1);
	assert_int_equal(loop_turn(l, loop_now() + 1, &err), 0);
	assert_int_equal(fired.again_count, 2);
	loop_timer_free(fired.again);
	loop_free(l);
}

/* A timer due at once fires on the next turn, though a later timer holds the timerfd, and the
 * later one still fires in its time. */
static void a_timer_due_at_once_fires_on_the_next_turn(void **state)
{
	struct loop *l;
	struct loop_timer *late, *now;
	struct err err;
	double t0;

	(void)state;
	memset(&fired, 0, sizeof(fired));
	assert_int_equal(loop_new(&l, &err), 0);
	late = loop_timer_new(l, mark, (void *)1);
	now = loop_timer_new(l, mark, (void *)2);
	t0 = loop_now();
	loop_timer_set(late, 0.2);
	loop_timer_set(now, 0);
	assert_int_equal(loop_turn(l, t0 + 10, &err), 0);
	/* Had the turn slept until the later timer, both would have fired in it. */
	assert_int_equal(fired.n, 1);
	assert_int_equal(fired.order[0], 2);
	assert_true(loop_timer_armed(late));
	while (fired.n < 2)
		assert_int_equal(loop_turn(l, loop_now() + 1, &err), 0);
	assert_int_equal(fired.order[1], 1);
	assert_true(loop_now() - t0 >= 0.2);
	loop_timer_free(late);
	loop_timer_free(now);
	loop_free(l);
}

static int readable;

static void on_readable(void *ctx, int fd, uint32_t events)
{
	char c;

	(void)ctx;
	if ((events & EPOLLIN) && read(fd, &c, 1) == 1)
		readable++;
}

static void descriptors_are_dispatched_until_unwatched(void **state)
{
	struct loop *l;
	struct err err;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(loop_new(&l, &err), 0);
	assert_int_equal(loop_watch(l, p[0], EPOLLIN, on_readable, NULL, &err), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(loop_turn(l, loop_now() + 1, &err), 0);
	assert_int_equal(readable, 1);
	loop_unwatch(l, p[0]);
	assert_int_equal(write(p[1], "y", 1), 1);
	assert_int_equal(loop_turn(l, loop_now() + 0.05, &err), 0);
	assert_int_equal(readable, 1);
	close(p[0]);
	close(p[1]);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(timers_fire_in_order_and_once),
		cmocka_unit_test(a_timer_rearmed_at_once_waits_for_the_next_round),
		cmocka_unit_test(a_timer_due_at_once_fires_on_the_next_turn),
		cmocka_unit_test(descriptors_are_dispatched_until_unwatched),
	};

	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
