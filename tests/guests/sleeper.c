/* sleeper.c -- sleeps argv[1] milliseconds (default 100), prints "slept".
 * Exercises: nanosleep(), which wasi-libc implements as poll_oneoff with a
 * single relative CLOCK_MONOTONIC subscription; clock_time_get. Also checks
 * that at least the requested time elapsed on CLOCK_MONOTONIC. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    long ms = argc > 1 ? atol(argv[1]) : 100;
    struct timespec req = { ms / 1000, (ms % 1000) * 1000000L };

    long long start = now_ns();
    if (nanosleep(&req, NULL) != 0) {
        perror("FAIL: nanosleep");
        return 1;
    }
    long long elapsed = now_ns() - start;
    if (elapsed < (long long)ms * 1000000LL) {
        fprintf(stderr, "FAIL: slept only %lld ns, wanted %ld ms\n", elapsed, ms);
        return 1;
    }
    puts("slept");
    return 0;
}
