/* quiet_spin.c -- computes, reading the clock, for argv[1] million iterations (default 1000),
 * and writes nothing: its only imports are the clock, the arguments and proc_exit, none of
 * which blocks. A fair host still makes it yield its worker at each time slice. The exit code
 * is the low bits of what it computed (so that the loop is not optimized away). */
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    long long n = (argc > 1 ? atoll(argv[1]) : 1000) * 1000000LL;
    unsigned long long x = 88172645463325252ull;
    for (long long i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if ((i & 1023) == 0) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            x += (unsigned long long)ts.tv_nsec;
        }
    }
    return (int)(x & 1);
}
