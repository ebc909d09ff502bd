/* readdir_bench.c -- lists directory argv[1] with raw fd_readdir calls of an argv[2]-byte buffer
 * (default 64: about one record per call), resuming from the last whole record's cookie, and
 * prints "entries N ns_per_call T". For bench/run.sh; a cookie protocol as wasi-libc's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <wasi/api.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    size_t size = argc > 2 ? (size_t)atol(argv[2]) : 64;
    int fd = open(argv[1], O_RDONLY | O_DIRECTORY);
    if (fd < 0) { perror("open"); return 1; }
    static unsigned char buf[1 << 20];
    if (size < 24 || size > sizeof buf) size = 64;
    __wasi_dircookie_t cookie = 0;
    long long entries = 0, calls = 0, t0 = now_ns();
    for (;;) {
        __wasi_size_t used = 0;
        if (__wasi_fd_readdir(fd, buf, size, cookie, &used) != 0) return 1;
        ++calls;
        size_t at = 0, whole = 0;
        while (at + sizeof(__wasi_dirent_t) <= used) {
            __wasi_dirent_t d;
            memcpy(&d, buf + at, sizeof d);
            if (at + sizeof d + d.d_namlen > used) break;  /* cut off: asked for again */
            at += sizeof d + d.d_namlen;
            cookie = d.d_next;
            ++whole;
        }
        entries += whole;
        if (used < size) break;  /* the end */
    }
    printf("entries %lld ns_per_call %.0f\n", entries, (double)(now_ns() - t0) / (double)calls);
    return 0;
}
