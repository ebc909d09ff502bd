/* tick_lag.c -- how late its timers fire: sleeps argv[2] ms argv[1] times and prints
 * "max_lateness_ms <float>", the largest overshoot of one sleep. Its siblings on a worker
 * (a guest computing in a loop) make it late; a fair host keeps that near the time slice. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 20;
    long ms = argc > 2 ? atol(argv[2]) : 10;
    double worst = 0;
    for (int i = 0; i < n; i++) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        double t0 = now_ms();
        nanosleep(&ts, NULL);
        double late = now_ms() - t0 - (double)ms;
        if (late > worst) worst = late;
    }
    printf("max_lateness_ms %.1f\n", worst);
    return 0;
}
