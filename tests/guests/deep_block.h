// Blocks while deep in its own stack: recursion to the depth given as argv[1] (default 1000),
// then every kind of blocking call at the bottom (poll_oneoff's sleep, sched_yield, a read of
// stdin), then back up. A host must suspend it there and resume every frame intact: the result
// is checked against the same recursion without blocking, and its data (static and on the heap)
// against what it wrote before: a host that lends itself guest memory for the suspension must
// give it back unchanged. Prints "ok DEPTH".
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile unsigned sink;
static unsigned char statics[8192];

static void fill(unsigned char* p, unsigned n, unsigned seed) {
  for (unsigned i = 0; i < n; i++) p[i] = (unsigned char)(i * 31u + seed);
}
static int intact(const unsigned char* p, unsigned n, unsigned seed) {
  for (unsigned i = 0; i < n; i++)
    if (p[i] != (unsigned char)(i * 31u + seed)) return 0;
  return 1;
}

__attribute__((noinline)) static unsigned descend(unsigned n, int block) {
  if (n == 0) {
    if (block) {
      char c;
      usleep(1000);
      sched_yield();
      (void)!read(0, &c, 1);
    }
    return 1;
  }
  unsigned r = descend(n - 1, block);
  sink = r;  // keeps each frame's own value live across the call: not a loop
  return (r ^ n) * 2654435761u + 1;
}

int main(int argc, char** argv) {
  unsigned depth = argc > 1 ? (unsigned)strtoul(argv[1], 0, 10) : 1000;
  unsigned heap_size = 96 * 1024;
  unsigned char* heap = malloc(heap_size);
  if (!heap) return 2;
  fill(statics, sizeof statics, 7);
  fill(heap, heap_size, 11);
  unsigned expected = descend(depth, 0);
  unsigned got = descend(depth, 1);
  if (!intact(statics, sizeof statics, 7) || !intact(heap, heap_size, 11)) {
    printf("data changed while blocked at depth %u\n", depth);
    return 1;
  }
  if (got != expected) {
    printf("wrong result at depth %u: %u, not %u\n", depth, got, expected);
    return 1;
  }
  printf("ok %u\n", depth);
  return 0;
}
