/*
 * timing.c — the benchmarks' clocks and the sort of their runs.
 */
#include <stdlib.h>
#include <time.h>

#include "timing.h"

static double seconds(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_cpu_now(void)
{
	return seconds(CLOCK_THREAD_CPUTIME_ID);
}

double bench_wall_now(void)
{
	return seconds(CLOCK_MONOTONIC);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void bench_sort(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
}
