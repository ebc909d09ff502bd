/* waiter.c -- waits, as a server's task would: "sleep MS" sleeps (poll_oneoff), "read" writes
 * one byte to stdout (so that the host can count the guests about to block) and reads stdin
 * until EOF (exit 1 if the read fails instead). Used by samples/many_tasks. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "sleep") == 0) {
        long ms = atol(argv[2]);
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        return nanosleep(&ts, NULL) == 0 ? 0 : 1;
    }
    if (argc == 2 && strcmp(argv[1], "read") == 0) {
        char c = '.';
        if (write(1, &c, 1) != 1) return 1;
        ssize_t n;
        while ((n = read(0, &c, 1)) > 0) {
        }
        return n == 0 ? 0 : 1;  /* EOF is success; an error (no stdin) is not */
    }
    return 2;
}
