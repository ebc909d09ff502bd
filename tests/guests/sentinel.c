/* sentinel.c -- each WASI call writes exactly its result bytes, and nothing around them.
 * Buffers are filled with a sentinel byte; after each call the bytes the spec says it writes
 * are checked, and every other byte must still be the sentinel (wazero's test style, here
 * through the real V8 thunks). Run with args "a" "bc", env "K=V", and a preopen named "/pre". */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#define S 0xA5
static unsigned char buf[512];
static int failures;

static void fill(void) { memset(buf, S, sizeof buf); }
/* Every byte outside [a, a+alen) and [b, b+blen) is still the sentinel. */
static void untouched_except2(const char *what, size_t a, size_t alen, size_t b, size_t blen) {
    for (size_t i = 0; i < sizeof buf; i++) {
        int inside = (i >= a && i < a + alen) || (i >= b && i < b + blen);
        if (!inside && buf[i] != S) {
            fprintf(stderr, "FAIL: %s wrote byte %zu\n", what, i);
            failures++;
            return;
        }
    }
}
static void untouched_except(const char *what, size_t from, size_t len) {
    untouched_except2(what, from, len, 0, 0);
}
static void expect(const char *what, int ok) {
    if (!ok) {
        fprintf(stderr, "FAIL: %s\n", what);
        failures++;
    }
}

int main(void) {
    /* clock_time_get: 8 bytes, unaligned on purpose. */
    fill();
    expect("clock_time_get", __wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 0, (__wasi_timestamp_t *)(buf + 101)) == 0);
    untouched_except("clock_time_get", 101, 8);

    /* args_sizes_get: two u32. args are "sentinel.wasm"-ish argv[0], "a", "bc". */
    fill();
    __wasi_size_t *argc = (__wasi_size_t *)(buf + 16), *argv_size = (__wasi_size_t *)(buf + 40);
    expect("args_sizes_get", __wasi_args_sizes_get(argc, argv_size) == 0);
    untouched_except2("args_sizes_get", 16, 4, 40, 4);
    size_t n = *argc, size = *argv_size;
    expect("argc", n == 3);

    /* args_get: n pointers at 64, strings at 128, exactly `size` bytes. */
    fill();
    expect("args_get", __wasi_args_get((uint8_t **)(buf + 64), buf + 128) == 0);
    untouched_except2("args_get", 64, n * 4, 128, size);
    expect("args_get last string", memcmp(buf + 128 + size - 3, "bc", 3) == 0);

    /* environ_get: "K=V\0". */
    fill();
    __wasi_size_t envc, env_size;
    expect("environ_sizes_get", __wasi_environ_sizes_get(&envc, &env_size) == 0 && envc == 1 && env_size == 4);
    fill();
    expect("environ_get", __wasi_environ_get((uint8_t **)(buf + 8), buf + 200) == 0);
    untouched_except2("environ_get", 8, 4, 200, 4);
    expect("environ_get string", memcmp(buf + 200, "K=V", 4) == 0);

    /* fd_fdstat_get: 24 bytes, padding written as zero. */
    fill();
    expect("fd_fdstat_get", __wasi_fd_fdstat_get(1, (__wasi_fdstat_t *)(buf + 32)) == 0);
    untouched_except("fd_fdstat_get", 32, 24);
    expect("fdstat padding", buf[33] == 0 && buf[36] == 0 && buf[39] == 0);

    /* fd_prestat_get: 8 bytes; fd_prestat_dir_name: exactly the name, no NUL. */
    fill();
    expect("fd_prestat_get", __wasi_fd_prestat_get(3, (__wasi_prestat_t *)(buf + 48)) == 0);
    untouched_except("fd_prestat_get", 48, 8);
    expect("prestat name length", buf[48] == 0 && *(uint32_t *)(buf + 52) == 4);
    fill();
    expect("fd_prestat_dir_name", __wasi_fd_prestat_dir_name(3, buf + 300, 64) == 0);
    untouched_except("fd_prestat_dir_name", 300, 4);
    expect("dir name", memcmp(buf + 300, "/pre", 4) == 0);

    /* random_get: exactly len bytes. */
    fill();
    expect("random_get", __wasi_random_get(buf + 77, 33) == 0);
    untouched_except("random_get", 77, 33);

    /* poll_oneoff: one 32-byte event for one expired clock, and the count. */
    __wasi_subscription_t sub;
    memset(&sub, 0, sizeof sub);
    sub.userdata = 0x1122334455667788ull;
    sub.u.tag = __WASI_EVENTTYPE_CLOCK;
    sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    sub.u.u.clock.timeout = 0;
    fill();
    expect("poll_oneoff", __wasi_poll_oneoff(&sub, (__wasi_event_t *)(buf + 128), 1, (__wasi_size_t *)(buf + 8)) == 0);
    untouched_except2("poll_oneoff", 128, 32, 8, 4);
    expect("poll count", *(uint32_t *)(buf + 8) == 1);
    expect("poll userdata", *(uint64_t *)(buf + 128) == 0x1122334455667788ull);

    /* A failing call writes nothing. */
    fill();
    expect("fd_fdstat_get badf", __wasi_fd_fdstat_get(99, (__wasi_fdstat_t *)(buf + 32)) == __WASI_ERRNO_BADF);
    untouched_except("failed fd_fdstat_get", 0, 0);
    fill();
    expect("clock badid", __wasi_clock_time_get(99, 0, (__wasi_timestamp_t *)(buf + 8)) == __WASI_ERRNO_INVAL);
    untouched_except("failed clock_time_get", 0, 0);

    if (failures) return 1;
    puts("ok");
    return 0;
}
