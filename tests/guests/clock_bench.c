/* clock_bench.c -- cost of one host call.
 * Calls __wasi_clock_time_get(CLOCK_MONOTONIC) argv[1] times (default
 * 10,000,000), timing the whole loop with the same clock, and prints exactly
 * one line: "clock_time_get_ns_per_call <float>".
 * Exercises: the host-call fast path (import trampoline + one clock read). */
#include <stdio.h>
#include <stdlib.h>
#include <wasi/api.h>

volatile __wasi_timestamp_t sink;

static __wasi_timestamp_t now(void) {
    __wasi_timestamp_t t = 0;
    if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t) != 0) {
        fputs("FAIL: clock_time_get\n", stderr);
        exit(1);
    }
    return t;
}

int main(int argc, char **argv) {
    long long n = argc > 1 ? atoll(argv[1]) : 10000000LL;
    if (n <= 0)
        n = 1;

    __wasi_timestamp_t start = now();
    for (long long i = 0; i < n; i++) {
        __wasi_timestamp_t t;
        if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t) != 0) {
            fputs("FAIL: clock_time_get in loop\n", stderr);
            return 1;
        }
        sink += t;      /* volatile: the call can't be dropped */
    }
    __wasi_timestamp_t end = now();

    printf("clock_time_get_ns_per_call %.3f\n", (double)(end - start) / (double)n);
    return 0;
}
