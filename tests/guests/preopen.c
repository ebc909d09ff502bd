/* preopen.c -- lists the preopened directories.
 * Exercises: fd_prestat_get from fd 3 upwards until EBADF, and
 * fd_prestat_dir_name with a buffer of exactly pr_name_len bytes (the host
 * must not write a NUL or anything else past it), plus a too-small buffer.
 * Output: "preopen <fd> <name>" per preopen, then "short_buf_errno <n>" (the
 * errno for a buffer one byte too short; "short_buf_errno none" if there is
 * no preopen with a non-empty name). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#define SENTINEL 0x5A

int main(void) {
    __wasi_fd_t first_named = (__wasi_fd_t)-1;
    __wasi_size_t first_len = 0;

    for (__wasi_fd_t fd = 3;; fd++) {
        __wasi_prestat_t pr;
        __wasi_errno_t e = __wasi_fd_prestat_get(fd, &pr);
        if (e == __WASI_ERRNO_BADF)
            break;
        if (e != 0) {
            fprintf(stderr, "FAIL: fd_prestat_get(%u) errno %u\n", (unsigned)fd, e);
            return 1;
        }
        if (pr.tag != __WASI_PREOPENTYPE_DIR) {
            fprintf(stderr, "FAIL: fd %u prestat tag %u\n", (unsigned)fd, pr.tag);
            return 1;
        }
        __wasi_size_t len = pr.u.dir.pr_name_len;
        uint8_t *name = malloc(len + 1);
        name[len] = SENTINEL;   /* detects writes past pr_name_len */
        e = __wasi_fd_prestat_dir_name(fd, name, len);
        if (e != 0) {
            fprintf(stderr, "FAIL: fd_prestat_dir_name(%u) errno %u\n", (unsigned)fd, e);
            return 1;
        }
        if (name[len] != SENTINEL) {
            fprintf(stderr, "FAIL: fd_prestat_dir_name(%u) wrote past pr_name_len\n",
                    (unsigned)fd);
            return 1;
        }
        printf("preopen %u %.*s\n", (unsigned)fd, (int)len, (char *)name);
        free(name);
        if (len > 0 && first_named == (__wasi_fd_t)-1) {
            first_named = fd;
            first_len = len;
        }
    }

    if (first_named == (__wasi_fd_t)-1) {
        puts("short_buf_errno none");
    } else {
        uint8_t *small = malloc(first_len);
        small[first_len - 1] = SENTINEL;
        __wasi_errno_t e = __wasi_fd_prestat_dir_name(first_named, small, first_len - 1);
        printf("short_buf_errno %u\n", e);
        if (small[first_len - 1] != SENTINEL) {
            fprintf(stderr, "FAIL: fd_prestat_dir_name wrote past a short buffer\n");
            return 1;
        }
        free(small);
    }
    return 0;
}
