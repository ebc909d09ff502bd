/* plugin.c -- a reactor plugin for samples/plugin_server: handle(i) logs through the host,
 * waits i % 3 ms in the host's awaitable sleep_ms, and returns add(i, i) from the host;
 * every request whose number ends in 7 traps. Built with -mexec-model=reactor. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

__attribute__((import_module("host"), import_name("add"))) int32_t host_add(int32_t a, int32_t b);
__attribute__((import_module("host"), import_name("sleep_ms"))) int32_t host_sleep_ms(int32_t ms);
__attribute__((import_module("host"), import_name("log"))) void host_log(const char* p, int32_t len);

__attribute__((export_name("handle"))) int32_t handle(int32_t i) {
  char line[48];
  int n = snprintf(line, sizeof line, "plugin handles %d", (int)i);
  host_log(line, n);
  host_sleep_ms(i % 3);
  if (i % 10 == 7) __builtin_trap();
  return host_add(i, i);
}
