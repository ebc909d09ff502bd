/* calls_unstable.c -- calls_body.h through the wasi_unstable (snapshot 0) imports, with that
 * snapshot's whence numbering, 56-byte filestat (u32 nlink) and 56-byte subscription (a u64
 * identifier before the clock id). */
#define WASI_MODULE "wasi_unstable"
#define WHENCE_CUR 0
#define WHENCE_END 1
#define WHENCE_SET 2
#define FILESTAT_SIZE 56
#define SUBSCRIPTION_SIZE 56
#define CLOCK_OFFSET 24
#include "calls_body.h"
