// A reactor (the WASI application ABI: _initialize, exports, no _start) importing the host
// functions an embedder defines in module "host", for the embedding tests and
// samples/plugin_server.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOST(name) __attribute__((import_module("host"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

HOST(add) int32_t host_add(int32_t a, int32_t b);
HOST(sleep_ms) int32_t host_sleep_ms(int32_t ms);
HOST(log) void host_log(const char* p, int32_t len);

static int initialized;  // set by a constructor: _initialize ran them
__attribute__((constructor)) static void init(void) { initialized = 1000; }

static void log_text(const char* s) { host_log(s, (int32_t)strlen(s)); }

// A plugin's request handler: logs, sleeps (odd requests), adds through the host; request 13
// traps.
EXPORT(handle) int32_t handle(int32_t i) {
  char line[64];
  snprintf(line, sizeof line, "request %d", (int)i);
  log_text(line);
  if (i == 13) __builtin_trap();
  if (i & 1) host_sleep_ms(1);
  return host_add(i, initialized);
}

EXPORT(initialized_value) int32_t initialized_value(void) { return initialized; }

// State kept between calls, in linear memory.
static int32_t counter;
EXPORT(bump) int32_t bump(void) { return ++counter; }

// Blocks `depth` frames deep, in the host's awaitable function.
static volatile int sink;
__attribute__((noinline)) static int32_t deep(int32_t depth, int32_t ms) {
  char pad[32];
  pad[depth & 31] = (char)depth;
  sink = pad[depth & 31];
  if (depth == 0) return host_sleep_ms(ms);
  return deep(depth - 1, ms) + 1;
}
EXPORT(deep_sleep) int32_t deep_sleep(int32_t depth, int32_t ms) { return deep(depth, ms); }

// Blocks in WASI: reads stdin to its end, returns the byte count.
EXPORT(read_stdin) int32_t read_stdin(void) {
  char buf[256];
  int32_t total = 0;
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n <= 0) return n < 0 ? -1 : total;
    total += (int32_t)n;
  }
}

// Never returns, and makes no call.
EXPORT(spin) void spin(void) {
  for (;;) sink++;
}

EXPORT(exit_with) void exit_with(int32_t code) { exit(code); }

// A buffer the embedder fills between calls.
static char buffer[256];
EXPORT(buffer_address) int32_t buffer_address(void) { return (int32_t)(uintptr_t)buffer; }
EXPORT(buffer_sum) int32_t buffer_sum(int32_t len) {
  int32_t s = 0;
  for (int32_t i = 0; i < len && i < (int32_t)sizeof buffer; ++i) s += (unsigned char)buffer[i];
  return s;
}

// A log with a pointer out of the guest's memory: the host function traps.
EXPORT(log_wild) void log_wild(void) { host_log((const char*)0x7ffffff0, 64); }

// Every number type through a call.
EXPORT(mix) double mix(int64_t a, float b, double c, uint32_t d) { return (double)a + b + c + d; }
EXPORT(wide) int64_t wide(int64_t a) { return a * 3; }
