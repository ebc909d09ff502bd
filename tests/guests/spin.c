/* spin.c -- pure computation, no WASI calls in the loop.
 * Runs argv[1] million (default 200) xorshift iterations, then prints "done".
 * Exercises: raw compiled-code speed (baseline for host overhead) and that a
 * long-running guest is not disturbed by the host. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

volatile uint64_t sink;

int main(int argc, char **argv) {
    long long n = (argc > 1 ? atoll(argv[1]) : 200) * 1000000LL;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (long long i = 0; i < n; i++) {   /* xorshift64: no closed form */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    sink = x;
    puts("done");
    return 0;
}
