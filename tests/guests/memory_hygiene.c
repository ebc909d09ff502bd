/* memory_hygiene.c -- a guest never sees a previous guest's bytes.
 * wasio recycles guest memories between instances. This guest checks that its zero-initialised
 * data (.bss) and the free heap are all zero, then dirties both, so that a later instance that
 * got the same memory without it being cleared would fail. Exit 0 when clean. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned char bss[48 * 1024];

static int all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

int main(void) {
    if (!all_zero(bss, sizeof bss)) {
        fputs("FAIL: .bss not zero: memory reused without clearing\n", stderr);
        return 1;
    }
    /* Memory above the heap's break belongs to nobody yet: it must be zero too. */
    unsigned char *brk = sbrk(0);
    unsigned char *end = (unsigned char *)(__builtin_wasm_memory_size(0) * 65536);
    if (brk == (void *)-1 || brk > end || !all_zero(brk, (size_t)(end - brk))) {
        fputs("FAIL: memory above the break not zero: memory reused without clearing\n", stderr);
        return 1;
    }
    memset(bss, 0xAB, sizeof bss);
    memset(brk, 0xCD, (size_t)(end - brk));
    puts("clean");
    return 0;
}
