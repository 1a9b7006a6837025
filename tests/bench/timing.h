/*
 * timing.h — what the benchmarks measure time with: this thread's CPU time (a machine shared
 * with other work would otherwise count the time others had the core), the monotonic clock,
 * and runs sorted for their best and median.
 */
#ifndef PW_BENCH_TIMING_H
#define PW_BENCH_TIMING_H

#include <stddef.h>

/* Seconds of CPU this thread has used. */
double bench_cpu_now(void);
/* Monotonic seconds. */
double bench_wall_now(void);
/* Sorts n times, the shortest first: v[0] is the best, v[n / 2] the median. */
void bench_sort(double *v, size_t n);

#endif
