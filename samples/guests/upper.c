/* upper.c -- a filter: copies stdin to stdout with ASCII letters upper-cased, 64 KiB at a
 * time. Used by samples/stream_filter. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
    static char buf[65536];
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n == 0) return 0;
        if (n < 0) {
            perror("upper: read");
            return 1;
        }
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] >= 'a' && buf[i] <= 'z') buf[i] -= 32;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(1, buf + off, (size_t)(n - off));
            if (w < 0) {
                perror("upper: write");
                return 1;
            }
            off += w;
        }
    }
}
