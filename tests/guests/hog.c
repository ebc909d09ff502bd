/* hog.c -- takes a resource until the host refuses, then says how much it got.
 *   hog memory MAX_MIB   malloc 1 MiB blocks (touching them) until NULL or MAX_MIB;
 *                        prints "memory N MiB"
 *   hog fds PATH MAX     open PATH read-only until it fails or MAX; prints "fds N <errno name>"
 * Exit 0. Exercises the per-guest memory and fd limits. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "memory") == 0) {
        int max = atoi(argv[2]), n = 0;
        static char *blocks[4096];
        for (; n < max && n < 4096; n++) {
            blocks[n] = malloc(1 << 20);
            if (!blocks[n]) break;
            memset(blocks[n], 1, 1 << 20);
        }
        /* Read the blocks back, so that the compiler keeps the allocations. */
        long sum = 0;
        for (int i = 0; i < n; i++) sum += blocks[i][i];
        printf("memory %d MiB\n", sum == n ? n : -1);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "fds") == 0) {
        int max = atoi(argv[3]), n = 0;
        for (; n < max; n++) {
            if (open(argv[2], O_RDONLY) < 0) break;
        }
        printf("fds %d %s\n", n, n == max ? "max" : errno == EMFILE ? "EMFILE" : "other");
        return 0;
    }
    fputs("usage: hog memory MAX_MIB | hog fds PATH MAX\n", stderr);
    return 2;
}
