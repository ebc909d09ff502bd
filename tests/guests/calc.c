/* calc.c -- a reactor without host imports, for `wasio run --invoke`: numbers in and out, an
 * export that writes to stdout through WASI, one that traps, one that exits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define EXPORT(name) __attribute__((export_name(#name)))

static int32_t base;
__attribute__((constructor)) static void init(void) { base = 100; }  // run by _initialize

EXPORT(add) int32_t add(int32_t a, int32_t b) { return a + b + base - 100; }
EXPORT(mul64) int64_t mul64(int64_t a, int64_t b) { return a * b; }
EXPORT(fdiv) double fdiv(double a, float b) { return a / b; }
EXPORT(greet) void greet(int32_t times) {
  for (int32_t i = 0; i < times; ++i) printf("hello %d\n", (int)i);
  fflush(stdout);
}
EXPORT(boom) int32_t boom(void) { __builtin_trap(); }
EXPORT(quit) void quit(int32_t code) { exit(code); }
