/* cat.c -- copies stdin to stdout until EOF with a 64 KiB buffer.
 * Exercises: fd_read on fd 0 and fd_write on fd 1 (including short
 * writes), EOF handling. Used for throughput benchmarks and pipe tests. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char buf[64 * 1024];

int main(void) {
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n == 0)
            return 0;                       /* EOF */
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            fprintf(stderr, "FAIL: read: %s\n", strerror(errno));
            return 1;
        }
        for (ssize_t off = 0; off < n;) {   /* handle short writes */
            ssize_t w = write(1, buf + off, (size_t)(n - off));
            if (w < 0) {
                if (errno == EINTR || errno == EAGAIN)
                    continue;
                fprintf(stderr, "FAIL: write: %s\n", strerror(errno));
                return 1;
            }
            off += w;
        }
    }
}
