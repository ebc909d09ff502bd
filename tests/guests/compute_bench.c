/* compute_bench.c -- compute-bound kernels that make no WASI call while they run, for the cost of
 * the tick counting that lets such code yield and be metered (bench/run.sh section 17).
 *   compute_bench [RUNS]    runs each kernel RUNS times (default 5) and prints, per kernel,
 *                           "NAME MS CHECKSUM": its fastest run's time, from the monotonic clock.
 *                           The fastest, because V8 replaces a function's baseline code only on
 *                           its next call (no on-stack replacement in wasm): a first run may
 *                           spend all its time in baseline code.
 * Kernels: xorshift (a 3-instruction loop: the worst case), sha (a 64-round hash over 4 MiB),
 * sort (qsort of 1M ints through a comparison function: a call per comparison), fib (recursion,
 * no loop), interp (a bytecode interpreter's dispatch loop), matmul (doubles, 200x200).
 * Also built natively by bench/run.sh (cc -O2) as the baseline. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t xorshift(void) {
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 100000000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
static uint64_t sha(void) {
    static uint32_t data[1 << 20];
    for (uint32_t i = 0; i < (1u << 20); i++) data[i] = i * 2654435761u;
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    for (uint32_t blk = 0; blk < (1u << 20); blk += 16) {
        uint32_t w[64];
        memcpy(w, data + blk, 64);
        for (int t = 16; t < 64; t++) {
            uint32_t s0 = ROR(w[t - 15], 7) ^ ROR(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint32_t s1 = ROR(w[t - 2], 17) ^ ROR(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = w[t - 16] + s0 + w[t - 7] + s1;
        }
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
        for (int t = 0; t < 64; t++) {
            uint32_t t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + 0x428a2f98u * (t + 1) + w[t];
            uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            k = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
        }
        h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
    }
    return h[0] ^ ((uint64_t)h[7] << 32);
}

static int cmp(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}
static uint64_t sort(void) {
    enum { N = 1 << 20 };
    static int v[N];
    uint32_t s = 12345;
    for (int i = 0; i < N; i++) v[i] = (int)(s = s * 1103515245u + 12345u);
    qsort(v, N, sizeof v[0], cmp);
    return (uint64_t)v[0] ^ (uint64_t)v[N / 2] ^ (uint64_t)v[N - 1];
}

static uint32_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

/* A stack machine: PUSH k, ADD, MUL, DUP, SWAP, DEC, JNZ target, DROP, HALT. */
enum { PUSH, ADD, MUL, DUP, SWAP, DEC, JNZ, DROP, HALT };
static uint64_t interp(void) {
    static const int32_t prog[] = {PUSH, 1, PUSH, 20000000,   /* acc n */
                                   SWAP, PUSH, 3, MUL, PUSH, 7, ADD, SWAP, DEC, DUP, JNZ, 4, DROP, HALT};
    int64_t stack[16];
    int sp = 0, pc = 0;
    for (;;) {
        switch (prog[pc++]) {
            case PUSH: stack[sp++] = prog[pc++]; break;
            case ADD: sp--; stack[sp - 1] += stack[sp]; break;
            case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
            case DUP: stack[sp] = stack[sp - 1]; sp++; break;
            case SWAP: { int64_t t = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = t; break; }
            case DEC: stack[sp - 1]--; break;
            case JNZ: { int32_t target = prog[pc++]; if (stack[--sp]) pc = target; break; }
            case DROP: sp--; break;
            case HALT: return (uint64_t)stack[sp - 1];
        }
    }
}

static uint64_t matmul(void) {
    enum { N = 200 };
    static double a[N][N], b[N][N], c[N][N];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) a[i][j] = (i + j) % 7, b[i][j] = (i * j) % 5, c[i][j] = 0;
    for (int r = 0; r < 20; r++)
        for (int i = 0; i < N; i++)
            for (int k = 0; k < N; k++)
                for (int j = 0; j < N; j++) c[i][j] += a[i][k] * b[k][j];
    double s = 0;
    for (int i = 0; i < N; i++) s += c[i][i];
    return (uint64_t)s;
}

static uint64_t fib_kernel(void) { return fib(34); }

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 5;
    struct { const char *name; uint64_t (*fn)(void); } kernels[] = {
        {"xorshift", xorshift}, {"sha", sha}, {"sort", sort}, {"fib", fib_kernel}, {"interp", interp}, {"matmul", matmul},
    };
    for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; k++) {
        uint64_t sum = 0;
        double best = 1e300;
        for (int r = 0; r < runs; r++) {
            double t0 = now_ms();
            sum = kernels[k].fn();
            double t = now_ms() - t0;
            if (t < best) best = t;
        }
        printf("%s %.1f %llu\n", kernels[k].name, best, (unsigned long long)sum);
    }
    return 0;
}
