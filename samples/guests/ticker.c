/* ticker.c -- prints "NAME tick I" COUNT times, sleeping MS between ticks.
 * Usage: ticker NAME COUNT MS. Used by samples/embed. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    if (argc != 4) return 2;
    int count = atoi(argv[2]);
    long ms = atol(argv[3]);
    for (int i = 1; i <= count; i++) {
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        printf("%s tick %d\n", argv[1], i);
        fflush(stdout);
    }
    return 0;
}
