/* fd_copy.c -- copies fd argv[1] to fd argv[2] (default 0 to 1) until EOF, in reads of at
 * most argv[3] bytes (default 4096), handling short writes.
 * Exercises: fd_read and fd_write on any fd number (an embedder's extra fds). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buf[64 * 1024];

int main(int argc, char **argv) {
    int in = argc > 1 ? atoi(argv[1]) : 0, out = argc > 2 ? atoi(argv[2]) : 1;
    size_t chunk = argc > 3 ? (size_t)atol(argv[3]) : 4096;
    if (chunk == 0 || chunk > sizeof buf) chunk = sizeof buf;
    for (;;) {
        ssize_t n = read(in, buf, chunk);
        if (n == 0) return 0;
        if (n < 0) {
            fprintf(stderr, "FAIL: read(%d): %s\n", in, strerror(errno));
            return 1;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0) {
                fprintf(stderr, "FAIL: write(%d): %s\n", out, strerror(errno));
                return 1;
            }
            off += w;
        }
    }
}
