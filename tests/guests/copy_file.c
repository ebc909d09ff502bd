/* copy_file.c -- copy_file SRC DST [TEXT]: copies file SRC to DST (created or truncated), then
 * appends TEXT to SRC if given; prints "copied N". Exercises path_open with creat/trunc/append,
 * fd_read and fd_write on files, as a program working on a tree the embedder gave it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char buf[64 * 1024];

int main(int argc, char **argv) {
    if (argc < 3) {
        fputs("usage: copy_file SRC DST [TEXT]\n", stderr);
        return 2;
    }
    int in = open(argv[1], O_RDONLY);
    int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0) {
        fprintf(stderr, "FAIL: open: %s\n", strerror(errno));
        return 1;
    }
    long total = 0;
    for (ssize_t n; (n = read(in, buf, sizeof buf)) != 0; total += n) {
        if (n < 0 || write(out, buf, (size_t)n) != n) {
            fprintf(stderr, "FAIL: copy: %s\n", strerror(errno));
            return 1;
        }
    }
    close(in);
    close(out);
    if (argc > 3) {
        int a = open(argv[1], O_WRONLY | O_APPEND);
        size_t len = strlen(argv[3]);
        if (a < 0 || write(a, argv[3], len) != (ssize_t)len) {
            fprintf(stderr, "FAIL: append: %s\n", strerror(errno));
            return 1;
        }
        close(a);
    }
    printf("copied %ld\n", total);
    return 0;
}
