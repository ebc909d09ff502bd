/* free_stack_outputs.c -- blocking calls whose outputs lie in the free part of the guest's own
 * shadow stack, at its very bottom (__data_end: wasm-ld puts a 64 KiB stack right above the
 * data), where asyncify mode unwinds the guest's frames while it waits. A guest may point a call
 * anywhere in its memory; the call's outputs must be there when it returns, and the guest must
 * resume as it was (the rest of the free stack may hold anything: nothing lives there):
 *  (a) poll_oneoff with a 1 ms clock: its event and the event count at the bottom;
 *  (b) fd_read of stdin (a line that arrives late): the bytes and the count there.
 * Prints "ok" and exits 0, or says what differs and exits 1. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#include "check.h"

extern char __data_end;

int main(void) {
    /* The lowest 16-byte-aligned address of the stack's region: nothing of the guest's lives
     * there until its stack grows 64 KiB deep. */
    uint8_t *bottom = (uint8_t *)(((uintptr_t)&__data_end + 15) & ~(uintptr_t)15);
    /* Sanity: this is below the stack pointer, as the free stack is. */
    uint8_t here;
    CHECK(bottom < &here, "the stack's bottom %p is not below a local %p", (void *)bottom, (void *)&here);

    /* (a) The event at bottom + 8 and the count at bottom + 0, where asyncify's buffer header
     *     and its first frames would be. */
    __wasi_subscription_t sub;
    memset(&sub, 0, sizeof sub);
    sub.userdata = 0x1122334455667788ull;
    sub.u.tag = __WASI_EVENTTYPE_CLOCK;
    sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    sub.u.u.clock.timeout = 1000000;
    memset(bottom, 0xa5, 64);
    __wasi_size_t *nevents = (__wasi_size_t *)bottom;
    __wasi_event_t *event = (__wasi_event_t *)(bottom + 8);
    __wasi_errno_t e = __wasi_poll_oneoff(&sub, event, 1, nevents);
    CHECK(e == 0, "poll_oneoff: errno %u", e);
    CHECK(*nevents == 1, "poll_oneoff: nevents %u, not 1", (unsigned)*nevents);
    CHECK(event->userdata == sub.userdata, "poll_oneoff: the event's userdata %llx",
          (unsigned long long)event->userdata);
    CHECK(event->type == __WASI_EVENTTYPE_CLOCK && event->error == 0, "poll_oneoff: type %u error %u",
          event->type, event->error);

    /* (b) The read's bytes at bottom + 16, its count at bottom + 4, its iovec on the live stack. */
    memset(bottom, 0xa5, 64);
    __wasi_iovec_t iov = {bottom + 16, 32};
    __wasi_size_t *nread = (__wasi_size_t *)(bottom + 4);
    e = __wasi_fd_read(0, &iov, 1, nread);
    CHECK(e == 0, "fd_read: errno %u", e);
    CHECK(*nread == 2 && memcmp(bottom + 16, "x\n", 2) == 0, "fd_read: %u bytes, \"%.*s\"", (unsigned)*nread,
          (int)(*nread < 32 ? *nread : 32), (const char *)bottom + 16);

    if (failed) return 1;
    puts("ok");
    return 0;
}
