/* grow_then_call.c -- WASI calls into memory the guest grew after it started.
 * wasio caches a guest's memory extent; a pointer past the cached end must be re-checked
 * against the grown memory, not refused with EFAULT. Exit 0 when every call succeeds. */
#include <stdio.h>
#include <stdlib.h>
#include <wasi/api.h>

int main(void) {
    size_t before = __builtin_wasm_memory_size(0);
    /* Far more than the initial memory: malloc grows it. */
    unsigned char *big = malloc(8u << 20);
    if (!big || __builtin_wasm_memory_size(0) <= before) {
        fputs("FAIL: memory did not grow\n", stderr);
        return 1;
    }
    __wasi_timestamp_t *t = (__wasi_timestamp_t *)(big + (8u << 20) - 64);
    if (__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, t) != 0 || *t == 0) {
        fputs("FAIL: clock_time_get into grown memory\n", stderr);
        return 1;
    }
    if (__wasi_random_get(big + (4u << 20), 4096) != 0) {
        fputs("FAIL: random_get into grown memory\n", stderr);
        return 1;
    }
    puts("ok");
    return 0;
}
