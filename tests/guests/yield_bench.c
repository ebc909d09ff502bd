/* yield_bench.c -- cost of one suspension and resumption of the guest.
 * Calls sched_yield() argv[1] times (default 200,000); wasio suspends the guest on every call
 * (asyncify unwind, a turn of the worker's loop, rewind). Prints one line:
 * "sched_yield_ns_per_call <float>". */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 200000;
    if (n <= 0) n = 1;
    double t0 = now_ns();
    for (long i = 0; i < n; i++) sched_yield();
    printf("sched_yield_ns_per_call %.1f\n", (now_ns() - t0) / n);
    return 0;
}
