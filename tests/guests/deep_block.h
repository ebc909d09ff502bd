// Blocks while deep in its own stack: recursion to the depth given as argv[1] (default 1000),
// then every kind of blocking call at the bottom (poll_oneoff's sleep, sched_yield, a read of
// stdin), then back up. A host must suspend it there and resume every frame intact: the result
// is checked against the same recursion without blocking. Prints "ok DEPTH".
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile unsigned sink;

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
  unsigned expected = descend(depth, 0);
  unsigned got = descend(depth, 1);
  if (got != expected) {
    printf("wrong result at depth %u: %u, not %u\n", depth, got, expected);
    return 1;
  }
  printf("ok %u\n", depth);
  return 0;
}
