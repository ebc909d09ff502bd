/* args_env.c -- prints the command line and the environment.
 * Exercises: args_sizes_get/args_get and environ_sizes_get/environ_get
 * (via wasi-libc's startup code and `environ`).
 * Output: "argv[i]=<s>" for each argument, then "env=<s>" for each
 * environment entry, in the order the host supplied them. */
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv) {
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    for (char **e = environ; e && *e; e++)
        printf("env=%s\n", *e);
    return 0;
}
