/* hello.c -- the smallest useful guest.
 * Exercises: _start, stdio -> fd_write on fd 1, normal exit status 0. */
#include <stdio.h>

int main(void) {
    fputs("hello from wasio\n", stdout);
    return 0;
}
