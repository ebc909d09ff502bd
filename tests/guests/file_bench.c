/* file_bench.c -- cost of one small regular-file transfer.
 * Usage: file_bench.wasm PATH read|write SIZE COUNT
 * read: COUNT fd_pread calls of SIZE bytes at offset 0 of PATH (which must hold SIZE bytes, so
 * they are page-cache hits after the first); write: COUNT fd_write calls of SIZE bytes appended
 * to PATH (truncated first). Prints one line: "<read|write>_ns_per_call <float>". */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fputs("usage: file_bench PATH read|write SIZE COUNT\n", stderr);
        return 2;
    }
    int writing = strcmp(argv[2], "write") == 0;
    size_t size = (size_t)atol(argv[3]);
    long count = atol(argv[4]);
    char *buf = malloc(size);
    memset(buf, 'x', size);
    int fd = open(argv[1], writing ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY, 0644);
    if (fd < 0 || !buf || count <= 0) {
        perror("file_bench");
        return 1;
    }
    double t0 = now_ns();
    for (long i = 0; i < count; i++) {
        ssize_t n = writing ? write(fd, buf, size) : pread(fd, buf, size, 0);
        if (n != (ssize_t)size) {
            fprintf(stderr, "FAIL: transfer %ld gave %zd\n", i, n);
            return 1;
        }
    }
    double t1 = now_ns();
    printf("%s_ns_per_call %.1f\n", writing ? "write" : "read", (t1 - t0) / count);
    return 0;
}
