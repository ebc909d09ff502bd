/* bad_pointers.c -- out-of-bounds guest pointers must give EFAULT, not crash.
 * Passes pointers that are outside linear memory (memory is far smaller than
 * 4 GiB), that straddle its end, or whose base+length wraps around 2^32, to
 * WASI functions, and checks each returns __WASI_ERRNO_FAULT (21).
 * Prints "<name> <errno>" per case; exits 0 if all are 21, else prints
 * "FAIL: ..." and exits 1.
 * fd_read reads from fd 0: run with stdin redirected (e.g. </dev/null) so a
 * host that validates too late cannot block. */
#include <stdint.h>
#include <stdio.h>
#include <wasi/api.h>

#define P(T, addr) ((T)(uintptr_t)(addr))

static int failed;

static void report(const char *name, __wasi_errno_t e) {
    printf("%s %u\n", name, (unsigned)e);
    fflush(stdout);
    if (e != __WASI_ERRNO_FAULT) {
        fprintf(stderr, "FAIL: %s returned %u, expected %u (EFAULT)\n", name,
                (unsigned)e, (unsigned)__WASI_ERRNO_FAULT);
        failed = 1;
    }
}

/* Current size of linear memory in bytes. */
static uint32_t mem_end(void) {
    return (uint32_t)(__builtin_wasm_memory_size(0) * 65536u);
}

static uint8_t valid_byte[16];

int main(void) {
    __wasi_errno_t e;
    __wasi_size_t n = 0, size = 0;

    e = __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, P(__wasi_timestamp_t *, 0xFFFFFFF0u));
    report("clock_time_get", e);

    /* 8-byte result, only the first 4 bytes inside memory. */
    e = __wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, P(__wasi_timestamp_t *, mem_end() - 4));
    report("clock_time_get_straddle", e);

    e = __wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, P(__wasi_timestamp_t *, 0xFFFFFFF0u));
    report("clock_res_get", e);

    /* 0xFFFFFFFC + 4 == 2^32: wraps to 0 in 32-bit arithmetic. */
    e = __wasi_args_sizes_get(P(__wasi_size_t *, 0xFFFFFFFCu), &size);
    report("args_sizes_get", e);

    e = __wasi_environ_sizes_get(&n, P(__wasi_size_t *, 0xFFFFFFFCu));
    report("environ_sizes_get", e);

    /* iovec array itself out of range (8 bytes at 0xFFFFFFF8 wraps to 0). */
    e = __wasi_fd_write(1, P(const __wasi_ciovec_t *, 0xFFFFFFF8u), 1, &n);
    report("fd_write_iovs", e);

    /* iovec array in range, but buf+len runs past the end of memory. */
    {
        __wasi_ciovec_t iov = { valid_byte, mem_end() - (uint32_t)(uintptr_t)valid_byte + 16 };
        e = __wasi_fd_write(1, &iov, 1, &n);
        report("fd_write_buf", e);
    }

    /* buf+len wraps around 2^32 to a small in-range value. */
    {
        __wasi_ciovec_t iov = { P(const uint8_t *, 16), 0xFFFFFFF8u };
        e = __wasi_fd_write(1, &iov, 1, &n);
        report("fd_write_wrap", e);
    }

    /* 0xFFFFFFF0 + 32 wraps to 0x10. */
    e = __wasi_random_get(P(uint8_t *, 0xFFFFFFF0u), 32);
    report("random_get", e);

    e = __wasi_random_get(P(uint8_t *, mem_end() - 16), 32);
    report("random_get_straddle", e);

    e = __wasi_fd_read(0, P(const __wasi_iovec_t *, 0xFFFFFFF8u), 1, &n);
    report("fd_read_iovs", e);

    /* poll_oneoff: subscriptions and events arrays out of range. */
    {
        __wasi_subscription_t sub = { 0 };
        sub.u.tag = __WASI_EVENTTYPE_CLOCK;
        sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
        sub.u.u.clock.timeout = 0;
        __wasi_event_t ev;
        e = __wasi_poll_oneoff(P(const __wasi_subscription_t *, 0xFFFFFFE0u), &ev, 1, &n);
        report("poll_oneoff_in", e);
        e = __wasi_poll_oneoff(&sub, P(__wasi_event_t *, 0xFFFFFFF0u), 1, &n);
        report("poll_oneoff_out", e);
    }

    if (failed) {
        fprintf(stderr, "FAIL: not every bad pointer gave EFAULT\n");
        return 1;
    }
    return 0;
}
