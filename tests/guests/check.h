/* check.h -- the guests' own assertion: CHECK(cond, printf-format, ...) says what failed on
 * stderr and marks the run failed (`failed`), going on with the next check; the guest then
 * exits 1 if any failed. */
#pragma once
#include <stdio.h>

static int failed;
#define CHECK(cond, ...)                           \
    do {                                           \
        if (!(cond)) {                             \
            fprintf(stderr, "FAIL: " __VA_ARGS__); \
            fputc('\n', stderr);                   \
            failed = 1;                            \
        }                                          \
    } while (0)
