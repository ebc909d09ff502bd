// What one call may cost the host does not grow with what the guest asks: fd_write with
// 200,000 iovecs takes the first IOV_MAX (a short write), poll_oneoff refuses more than 65,536
// subscriptions with inval, and neither reads past the first bad field. Prints "ok".
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

#define CHECK(c, what) do { if (!(c)) { printf("FAILED: %s\n", what); return 1; } } while (0)

static __wasi_ciovec_t iovs[200000];
static __wasi_subscription_t subs[65537];
static __wasi_event_t events[65537];

int main(void) {
  for (size_t i = 0; i < sizeof iovs / sizeof *iovs; ++i) iovs[i] = (__wasi_ciovec_t){(const uint8_t *)"", 0};
  iovs[199999] = (__wasi_ciovec_t){(const uint8_t *)"x", 1};
  __wasi_size_t n = 99;
  CHECK(__wasi_fd_write(1, iovs, 200000, &n) == 0 && n == 0, "200,000 iovecs: a short write of the first ones");
  iovs[0] = (__wasi_ciovec_t){(const uint8_t *)"o", 1};
  CHECK(__wasi_fd_write(1, iovs, 200000, &n) == 0 && n == 1, "the first iovec is written");
  // An array that leaves memory is a fault, whatever its count.
  CHECK(__wasi_fd_write(1, iovs, 0x10000000, &n) == __WASI_ERRNO_FAULT, "an iovec array past the end");
  for (size_t i = 0; i < sizeof subs / sizeof *subs; ++i) {
    subs[i] = (__wasi_subscription_t){.userdata = i, .u.tag = __WASI_EVENTTYPE_CLOCK,
                                      .u.u.clock = {.id = __WASI_CLOCKID_MONOTONIC, .timeout = 0}};
  }
  CHECK(__wasi_poll_oneoff(subs, events, 65537, &n) == __WASI_ERRNO_INVAL, "65,537 subscriptions");
  CHECK(__wasi_poll_oneoff(subs, events, 0x7fffffff, &n) == __WASI_ERRNO_INVAL ||
            __wasi_poll_oneoff(subs, events, 0x7fffffff, &n) == __WASI_ERRNO_FAULT,
        "2^31 subscriptions");
  CHECK(__wasi_poll_oneoff(subs, events, 65536, &n) == 0 && n >= 1, "65,536 subscriptions are served");
  printf("k\n");
  return 0;
}
