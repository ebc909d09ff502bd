/* exit_code.c -- exits with the status given as argv[1] (0 if absent).
 * Exercises: exit() -> proc_exit with an arbitrary status. */
#include <stdlib.h>

int main(int argc, char **argv) {
    exit(argc > 1 ? atoi(argv[1]) : 0);
}
