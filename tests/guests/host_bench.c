/* host_bench.c -- a reactor for bench/host_calls: loops of n calls to a host function (sync and
 * awaitable) and to the WASI calls they are measured against, and an empty export for the cost
 * of a call from C++. Built with -mexec-model=reactor. */
#include <sched.h>
#include <stdint.h>
#include <wasi/api.h>

__attribute__((import_module("host"), import_name("nop"))) int32_t host_nop(int32_t);
__attribute__((import_module("host"), import_name("yield"))) int32_t host_yield(void);

#define EXPORT(name) __attribute__((export_name(#name)))

EXPORT(sync_loop) int32_t sync_loop(int32_t n) {
  int32_t s = 0;
  for (int32_t i = 0; i < n; ++i) s += host_nop(i);
  return s;
}
EXPORT(clock_loop) int32_t clock_loop(int32_t n) {
  __wasi_timestamp_t t = 0, s = 0;
  for (int32_t i = 0; i < n; ++i) {
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t);  /* the time is what counts */
    s += t;
  }
  return (int32_t)s;
}
EXPORT(async_loop) int32_t async_loop(int32_t n) {
  int32_t s = 0;
  for (int32_t i = 0; i < n; ++i) s += host_yield();
  return s;
}
EXPORT(yield_loop) int32_t yield_loop(int32_t n) {
  for (int32_t i = 0; i < n; ++i) sched_yield();
  return n;
}
EXPORT(noop) int32_t noop(int32_t x) { return x; }
