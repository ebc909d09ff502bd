/* trap.c -- prints "before trap" (flushed), then executes `unreachable`.
 * Exercises: host trap handling (the output written before the trap must
 * appear; the host must report a trap, not a normal exit). */
#include <stdio.h>

int main(void) {
    fputs("before trap\n", stdout);
    fflush(stdout);
    __builtin_trap();
}
