/* calls_preview1.c -- calls_body.h through the wasi_snapshot_preview1 imports. */
#define WASI_MODULE "wasi_snapshot_preview1"
#define WHENCE_SET 0
#define WHENCE_CUR 1
#define WHENCE_END 2
#define FILESTAT_SIZE 64
#define SUBSCRIPTION_SIZE 48
#define CLOCK_OFFSET 16 /* clock id; the timeout follows 8 bytes later */
#include "calls_body.h"
