/* wasi_misc.c -- assorted small WASI calls, called raw to see the errno.
 * Exercises: args_sizes_get/args_get and environ_sizes_get/environ_get
 * consistency; clock_res_get on the 4 clocks; clock_time_get with a bad clock
 * id (EINVAL); random_get; sched_yield; fd_fdstat_get on 0/1/2 (ok) and a bad
 * fd (EBADF); EBADF from fd_write/fd_tell/fd_close/fd_prestat_get on a bad fd;
 * fd_seek on stdout (ESPIPE for a pipe/tty, success for a file).
 * Prints "ok" on success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#include "check.h"

#define BADFD 99


/* `count` NUL-terminated strings, pointed to by ptrs[], must exactly tile
 * [buf, buf + bufsize). */
static void check_string_table(const char *what, uint8_t **ptrs, uint8_t *buf,
                               __wasi_size_t count, __wasi_size_t bufsize) {
    size_t used = 0;
    for (__wasi_size_t i = 0; i < count; i++) {
        CHECK(ptrs[i] == buf + used, "%s[%u] does not start where expected", what,
              (unsigned)i);
        if (ptrs[i] != buf + used)
            return;
        size_t len = strnlen((char *)ptrs[i], bufsize - used);
        CHECK(len < bufsize - used, "%s[%u] not NUL-terminated inside buffer", what,
              (unsigned)i);
        if (len >= bufsize - used)
            return;
        used += len + 1;
    }
    CHECK(used == bufsize, "%s: strings use %zu bytes, sizes_get said %u", what, used,
          (unsigned)bufsize);
}

static void check_args(int argc, char **argv) {
    __wasi_size_t n = 0, size = 0;
    __wasi_errno_t e = __wasi_args_sizes_get(&n, &size);
    CHECK(e == 0, "args_sizes_get errno %u", e);
    CHECK((int)n == argc, "args_sizes_get count %u != argc %d", (unsigned)n, argc);
    uint8_t **ptrs = calloc(n + 1, sizeof *ptrs);
    uint8_t *buf = malloc(size + 1);
    e = __wasi_args_get(ptrs, buf);
    CHECK(e == 0, "args_get errno %u", e);
    check_string_table("args", ptrs, buf, n, size);
    for (int i = 0; i < argc && i < (int)n && !failed; i++)
        CHECK(strcmp((char *)ptrs[i], argv[i]) == 0, "args_get[%d] != argv[%d]", i, i);
    free(ptrs);
    free(buf);
}

static void check_environ(void) {
    __wasi_size_t n = 0, size = 0;
    __wasi_errno_t e = __wasi_environ_sizes_get(&n, &size);
    CHECK(e == 0, "environ_sizes_get errno %u", e);
    uint8_t **ptrs = calloc(n + 1, sizeof *ptrs);
    uint8_t *buf = malloc(size + 1);
    e = __wasi_environ_get(ptrs, buf);
    CHECK(e == 0, "environ_get errno %u", e);
    check_string_table("environ", ptrs, buf, n, size);
    for (__wasi_size_t i = 0; i < n && !failed; i++)
        CHECK(strchr((char *)ptrs[i], '=') != NULL, "environ[%u] has no '='", (unsigned)i);
    free(ptrs);
    free(buf);
}

static void check_clocks(void) {
    static const struct { __wasi_clockid_t id; const char *name; } clocks[] = {
        { __WASI_CLOCKID_REALTIME, "realtime" },
        { __WASI_CLOCKID_MONOTONIC, "monotonic" },
        { __WASI_CLOCKID_PROCESS_CPUTIME_ID, "process_cputime" },
        { __WASI_CLOCKID_THREAD_CPUTIME_ID, "thread_cputime" },
    };
    for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        __wasi_timestamp_t res = 0;
        __wasi_errno_t e = __wasi_clock_res_get(clocks[i].id, &res);
        CHECK(e == 0, "clock_res_get(%s) errno %u", clocks[i].name, e);
        CHECK(res > 0, "clock_res_get(%s) resolution is 0", clocks[i].name);
    }
    __wasi_timestamp_t t;
    __wasi_errno_t e = __wasi_clock_time_get(99, 1, &t);
    CHECK(e == __WASI_ERRNO_INVAL, "clock_time_get(99) errno %u, expected EINVAL", e);
    e = __wasi_clock_res_get(99, &t);
    CHECK(e == __WASI_ERRNO_INVAL, "clock_res_get(99) errno %u, expected EINVAL", e);
}

static void check_random(void) {
    uint8_t a[64], b[64], zero[64] = { 0 };
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    __wasi_errno_t e1 = __wasi_random_get(a, sizeof a);
    __wasi_errno_t e2 = __wasi_random_get(b, sizeof b);
    CHECK(e1 == 0 && e2 == 0, "random_get errno %u/%u", e1, e2);
    CHECK(memcmp(a, zero, sizeof a) != 0, "random_get left the buffer all zero");
    CHECK(memcmp(a, b, sizeof a) != 0, "two random_get calls returned the same bytes");
    CHECK(__wasi_random_get(a, 0) == 0, "random_get of 0 bytes failed");
}

static void check_fds(void) {
    __wasi_fdstat_t st;
    for (__wasi_fd_t fd = 0; fd <= 2; fd++) {
        __wasi_errno_t e = __wasi_fd_fdstat_get(fd, &st);
        CHECK(e == 0, "fd_fdstat_get(%u) errno %u", (unsigned)fd, e);
    }
    __wasi_errno_t e = __wasi_fd_fdstat_get(BADFD, &st);
    CHECK(e == __WASI_ERRNO_BADF, "fd_fdstat_get(bad) errno %u, expected EBADF", e);

    static const char msg[] = "x";
    __wasi_ciovec_t iov = { (const uint8_t *)msg, 1 };
    __wasi_size_t nw = 0;
    e = __wasi_fd_write(BADFD, &iov, 1, &nw);
    CHECK(e == __WASI_ERRNO_BADF, "fd_write(bad) errno %u, expected EBADF", e);

    __wasi_filesize_t pos;
    e = __wasi_fd_seek(1, 0, __WASI_WHENCE_CUR, &pos);
    CHECK(e == __WASI_ERRNO_SPIPE || e == 0, "fd_seek(1) errno %u, expected ESPIPE or 0", e);

    e = __wasi_fd_tell(BADFD, &pos);
    CHECK(e == __WASI_ERRNO_BADF, "fd_tell(bad) errno %u, expected EBADF", e);

    e = __wasi_fd_close(BADFD);
    CHECK(e == __WASI_ERRNO_BADF, "fd_close(bad) errno %u, expected EBADF", e);

    __wasi_prestat_t pr;
    e = __wasi_fd_prestat_get(BADFD, &pr);
    CHECK(e == __WASI_ERRNO_BADF, "fd_prestat_get(bad) errno %u, expected EBADF", e);
}

/* Run with stdin and stdout closed by the shell: both are closed for the guest too. */
static int check_stdio_closed(void) {
    __wasi_fdstat_t st;
    CHECK(__wasi_fd_fdstat_get(0, &st) == __WASI_ERRNO_BADF, "stdin is open");
    CHECK(__wasi_fd_fdstat_get(1, &st) == __WASI_ERRNO_BADF, "stdout is open");
    CHECK(__wasi_fd_fdstat_get(2, &st) == 0, "stderr is closed");
    char c[16];
    __wasi_iovec_t in = {(uint8_t *)c, sizeof c};
    __wasi_ciovec_t out = {(const uint8_t *)"x", 1};
    __wasi_size_t n;
    CHECK(__wasi_fd_read(0, &in, 1, &n) == __WASI_ERRNO_BADF, "fd_read(0) is not EBADF");
    CHECK(__wasi_fd_write(1, &out, 1, &n) == __WASI_ERRNO_BADF, "fd_write(1) is not EBADF");
    return failed ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "stdio-closed") == 0)
        return check_stdio_closed();
    check_args(argc, argv);
    check_environ();
    check_clocks();
    check_random();
    CHECK(__wasi_sched_yield() == 0, "sched_yield failed");
    check_fds();
    if (failed)
        return 1;
    puts("ok");
    return 0;
}
