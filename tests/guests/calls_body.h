/* calls_body.h -- every WASI call and its error cases, through the raw imports of one module.
 *
 * Included by calls_preview1.c and calls_unstable.c, which define WASI_MODULE and the ABI
 * points where wasi_unstable (snapshot 0) differs: the whence numbering, the filestat layout
 * (u32 nlink, 56 bytes) and the subscription layout (a u64 identifier before the clock fields,
 * 56 bytes). Everything else has the same layout in both (witx of each snapshot, WebAssembly/WASI
 * legacy/preview0 and legacy/preview1).
 *
 * The host gives: preopen fd 3 = a writable empty directory, fd 4 = a read-only directory
 * holding "ro.txt" ("read only\n") and a symlink "escape" -> "/etc"; --env WASIO_T=yes; argv
 * [calls, one]. Prints "ok <module>" and exits 0 when every check holds, else one FAIL line per
 * failed check and exits 1. Output goes through wasi-libc (preview1); the calls under test go
 * through WASI_MODULE's imports only. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define IMPORT(name) __attribute__((import_module(WASI_MODULE), import_name(#name)))
typedef int32_t ptr;  /* a guest address, as the ABI passes it */
#define P(x) ((ptr)(uintptr_t)(x))

IMPORT(args_get) int32_t w_args_get(ptr, ptr);
IMPORT(args_sizes_get) int32_t w_args_sizes_get(ptr, ptr);
IMPORT(environ_get) int32_t w_environ_get(ptr, ptr);
IMPORT(environ_sizes_get) int32_t w_environ_sizes_get(ptr, ptr);
IMPORT(clock_res_get) int32_t w_clock_res_get(int32_t, ptr);
IMPORT(clock_time_get) int32_t w_clock_time_get(int32_t, int64_t, ptr);
IMPORT(fd_advise) int32_t w_fd_advise(int32_t, int64_t, int64_t, int32_t);
IMPORT(fd_allocate) int32_t w_fd_allocate(int32_t, int64_t, int64_t);
IMPORT(fd_close) int32_t w_fd_close(int32_t);
IMPORT(fd_datasync) int32_t w_fd_datasync(int32_t);
IMPORT(fd_fdstat_get) int32_t w_fd_fdstat_get(int32_t, ptr);
IMPORT(fd_fdstat_set_flags) int32_t w_fd_fdstat_set_flags(int32_t, int32_t);
IMPORT(fd_fdstat_set_rights) int32_t w_fd_fdstat_set_rights(int32_t, int64_t, int64_t);
IMPORT(fd_filestat_get) int32_t w_fd_filestat_get(int32_t, ptr);
IMPORT(fd_filestat_set_size) int32_t w_fd_filestat_set_size(int32_t, int64_t);
IMPORT(fd_filestat_set_times) int32_t w_fd_filestat_set_times(int32_t, int64_t, int64_t, int32_t);
IMPORT(fd_pread) int32_t w_fd_pread(int32_t, ptr, int32_t, int64_t, ptr);
IMPORT(fd_prestat_get) int32_t w_fd_prestat_get(int32_t, ptr);
IMPORT(fd_prestat_dir_name) int32_t w_fd_prestat_dir_name(int32_t, ptr, int32_t);
IMPORT(fd_pwrite) int32_t w_fd_pwrite(int32_t, ptr, int32_t, int64_t, ptr);
IMPORT(fd_read) int32_t w_fd_read(int32_t, ptr, int32_t, ptr);
IMPORT(fd_readdir) int32_t w_fd_readdir(int32_t, ptr, int32_t, int64_t, ptr);
IMPORT(fd_renumber) int32_t w_fd_renumber(int32_t, int32_t);
IMPORT(fd_seek) int32_t w_fd_seek(int32_t, int64_t, int32_t, ptr);
IMPORT(fd_sync) int32_t w_fd_sync(int32_t);
IMPORT(fd_tell) int32_t w_fd_tell(int32_t, ptr);
IMPORT(fd_write) int32_t w_fd_write(int32_t, ptr, int32_t, ptr);
IMPORT(path_create_directory) int32_t w_path_create_directory(int32_t, ptr, int32_t);
IMPORT(path_filestat_get) int32_t w_path_filestat_get(int32_t, int32_t, ptr, int32_t, ptr);
IMPORT(path_filestat_set_times) int32_t w_path_filestat_set_times(int32_t, int32_t, ptr, int32_t, int64_t, int64_t, int32_t);
IMPORT(path_link) int32_t w_path_link(int32_t, int32_t, ptr, int32_t, int32_t, ptr, int32_t);
IMPORT(path_open) int32_t w_path_open(int32_t, int32_t, ptr, int32_t, int32_t, int64_t, int64_t, int32_t, ptr);
IMPORT(path_readlink) int32_t w_path_readlink(int32_t, ptr, int32_t, ptr, int32_t, ptr);
IMPORT(path_remove_directory) int32_t w_path_remove_directory(int32_t, ptr, int32_t);
IMPORT(path_rename) int32_t w_path_rename(int32_t, ptr, int32_t, int32_t, ptr, int32_t);
IMPORT(path_symlink) int32_t w_path_symlink(ptr, int32_t, int32_t, ptr, int32_t);
IMPORT(path_unlink_file) int32_t w_path_unlink_file(int32_t, ptr, int32_t);
IMPORT(poll_oneoff) int32_t w_poll_oneoff(ptr, ptr, int32_t, ptr);
IMPORT(proc_exit) _Noreturn void w_proc_exit(int32_t);
IMPORT(proc_raise) int32_t w_proc_raise(int32_t);
IMPORT(random_get) int32_t w_random_get(ptr, int32_t);
IMPORT(sched_yield) int32_t w_sched_yield(void);

/* errno values shared by both snapshots */
enum { OK = 0, EBADF_ = 8, EEXIST_ = 20, EFAULT_ = 21, EILSEQ_ = 25, EINVAL_ = 28, EISDIR_ = 31,
       ELOOP_ = 32, ENAMETOOLONG_ = 37, ENOENT_ = 44, ENOTDIR_ = 54, ENOTEMPTY_ = 55,
       ENOTSUP_ = 58, ESPIPE_ = 70, ENOTCAPABLE_ = 76 };
enum { FT_DIR = 3, FT_REG = 4, FT_LINK = 7 };
enum { O_CREAT_ = 1, O_DIRECTORY_ = 2, O_EXCL_ = 4, O_TRUNC_ = 8 };
enum { FL_APPEND = 1, FL_NONBLOCK = 4 };
enum { FOLLOW = 1 };
enum { ST_ATIM = 1, ST_ATIM_NOW = 2, ST_MTIM = 4, ST_MTIM_NOW = 8 };
#define R_FD_READ (1ull << 1)
#define R_FD_WRITE (1ull << 6)
/* The rights that ask to write a file: fd_write, fd_allocate, fd_filestat_set_size. */
#define R_WRITES (R_FD_WRITE | (1ull << 8) | (1ull << 22))
#define BAD_PTR 0xFFFFFFF0u  /* past the end of any memory this guest has */

static int failures;
#define CHECK(cond, what)                                                 \
    do {                                                                  \
        if (!(cond)) {                                                    \
            printf("FAIL: %s (line %d)\n", what, __LINE__);               \
            failures++;                                                   \
        }                                                                 \
    } while (0)
/* A call's errno must be `want`. */
#define EXPECT(call, want)                                                \
    do {                                                                  \
        int32_t got_ = (call);                                            \
        if (got_ != (want)) {                                             \
            printf("FAIL: %s gave %d, want %d (line %d)\n", #call, got_, want, __LINE__); \
            failures++;                                                   \
        }                                                                 \
    } while (0)

struct filestat_view { uint64_t dev, ino, nlink, size, atim, mtim, ctim; uint8_t type; };

static struct filestat_view decode_filestat(const uint8_t *b) {
    struct filestat_view v;
    memcpy(&v.dev, b, 8);
    memcpy(&v.ino, b + 8, 8);
    v.type = b[16];
#if FILESTAT_SIZE == 56
    uint32_t nlink;
    memcpy(&nlink, b + 20, 4);
    v.nlink = nlink;
    memcpy(&v.size, b + 24, 8);
    memcpy(&v.atim, b + 32, 8);
    memcpy(&v.mtim, b + 40, 8);
    memcpy(&v.ctim, b + 48, 8);
#else
    memcpy(&v.nlink, b + 24, 8);
    memcpy(&v.size, b + 32, 8);
    memcpy(&v.atim, b + 40, 8);
    memcpy(&v.mtim, b + 48, 8);
    memcpy(&v.ctim, b + 56, 8);
#endif
    return v;
}

static struct filestat_view fstat_of(int32_t fd, int32_t *err) {
    uint8_t b[FILESTAT_SIZE + 8];
    memset(b, 0xAA, sizeof b);
    *err = w_fd_filestat_get(fd, P(b));
    if (b[FILESTAT_SIZE] != 0xAA) { printf("FAIL: fd_filestat_get wrote past %d bytes\n", FILESTAT_SIZE); failures++; }
    return decode_filestat(b);
}

static struct filestat_view pstat_of(int32_t dir, int32_t flags, const char *path, int32_t *err) {
    uint8_t b[FILESTAT_SIZE + 8];
    memset(b, 0xAA, sizeof b);
    *err = w_path_filestat_get(dir, flags, P(path), (int32_t)strlen(path), P(b));
    if (b[FILESTAT_SIZE] != 0xAA) { printf("FAIL: path_filestat_get wrote past %d bytes\n", FILESTAT_SIZE); failures++; }
    return decode_filestat(b);
}

static int32_t open_at(int32_t dir, int32_t lookup, const char *path, int32_t oflags, int64_t rights,
                       int32_t fdflags, int32_t *fd) {
    return w_path_open(dir, lookup, P(path), (int32_t)strlen(path), oflags, rights, rights, fdflags, P(fd));
}

static int32_t write_str(int32_t fd, const char *s, uint32_t *n) {
    uint32_t iov[2] = {P(s), (uint32_t)strlen(s)};
    return w_fd_write(fd, P(iov), 1, P(n));
}

static int32_t read_into(int32_t fd, char *buf, uint32_t len, uint32_t *n) {
    uint32_t iov[2] = {P(buf), len};
    return w_fd_read(fd, P(iov), 1, P(n));
}

static void args_env_clock_random(void) {
    uint32_t argc = 0, argv_size = 0;
    EXPECT(w_args_sizes_get(P(&argc), P(&argv_size)), OK);
    CHECK(argc == 2, "argc is 2");
    uint32_t argv[4];
    char argbuf[256];
    if (argc == 2 && argv_size <= sizeof argbuf) {
        EXPECT(w_args_get(P(argv), P(argbuf)), OK);
        CHECK(strcmp((char *)(uintptr_t)argv[1], "one") == 0, "argv[1] is one");
    }
    EXPECT(w_args_get(BAD_PTR, P(argbuf)), EFAULT_);

    uint32_t envc = 0, env_size = 0;
    EXPECT(w_environ_sizes_get(P(&envc), P(&env_size)), OK);
    uint32_t envp[16];
    char envbuf[512];
    if (envc <= 16 && env_size <= sizeof envbuf) {
        EXPECT(w_environ_get(P(envp), P(envbuf)), OK);
        int found = 0;
        for (uint32_t i = 0; i < envc; i++) found |= strcmp((char *)(uintptr_t)envp[i], "WASIO_T=yes") == 0;
        CHECK(found, "environment holds WASIO_T=yes");
    }
    EXPECT(w_environ_sizes_get(BAD_PTR, P(&env_size)), EFAULT_);

    uint64_t t = 0, res = 0;
    EXPECT(w_clock_res_get(1, P(&res)), OK);
    CHECK(res > 0, "monotonic resolution is positive");
    EXPECT(w_clock_time_get(0, 1, P(&t)), OK);
    CHECK(t > 1600000000ull * 1000000000ull, "realtime is after 2020");
    EXPECT(w_clock_time_get(99, 1, P(&t)), EINVAL_);
    EXPECT(w_clock_res_get(99, P(&res)), EINVAL_);
    EXPECT(w_clock_time_get(1, 1, BAD_PTR), EFAULT_);

    uint8_t r[32] = {0};
    EXPECT(w_random_get(P(r), sizeof r), OK);
    int nonzero = 0;
    for (size_t i = 0; i < sizeof r; i++) nonzero |= r[i];
    CHECK(nonzero, "random_get filled the buffer");
    EXPECT(w_random_get(BAD_PTR, 64), EFAULT_);

    EXPECT(w_sched_yield(), OK);
    EXPECT(w_proc_raise(10), ENOTSUP_);  /* never signals the host */
}

static void prestat(void) {
    uint8_t ps[8];
    EXPECT(w_fd_prestat_get(3, P(ps)), OK);
    uint32_t len;
    memcpy(&len, ps + 4, 4);
    CHECK(ps[0] == 0 && len == 2, "fd 3 is a preopened dir named /d");
    char name[8] = {0};
    EXPECT(w_fd_prestat_dir_name(3, P(name), 2), OK);
    CHECK(memcmp(name, "/d", 2) == 0, "fd 3's name is /d");
    EXPECT(w_fd_prestat_dir_name(3, P(name), 1), ENAMETOOLONG_);
    EXPECT(w_fd_prestat_get(0, P(ps)), EBADF_);   /* stdin is not a preopen */
    EXPECT(w_fd_prestat_get(999, P(ps)), EBADF_);
    EXPECT(w_fd_prestat_get(3, BAD_PTR), EFAULT_);
}

static void file_io(void) {
    int32_t fd = -1, err;
    EXPECT(open_at(3, 0, "f", O_CREAT_ | O_TRUNC_, -1, 0, &fd), OK);
    uint32_t n = 0;
    EXPECT(write_str(fd, "hello world", &n), OK);
    CHECK(n == 11, "fd_write wrote 11 bytes");
    uint64_t pos = 0;
    EXPECT(w_fd_tell(fd, P(&pos)), OK);
    CHECK(pos == 11, "fd_tell after the write is 11");
    EXPECT(w_fd_seek(fd, 0, WHENCE_SET, P(&pos)), OK);
    CHECK(pos == 0, "seek to the start");
    char buf[64] = {0};
    EXPECT(read_into(fd, buf, sizeof buf - 1, &n), OK);
    CHECK(n == 11 && strcmp(buf, "hello world") == 0, "fd_read reads it back");
    EXPECT(w_fd_seek(fd, -5, WHENCE_END, P(&pos)), OK);
    CHECK(pos == 6, "seek 5 back from the end");
    EXPECT(w_fd_seek(fd, 1, WHENCE_CUR, P(&pos)), OK);
    CHECK(pos == 7, "seek 1 on from the current offset");
    EXPECT(w_fd_seek(fd, 0, 7, P(&pos)), EINVAL_);
    EXPECT(w_fd_seek(fd, -100, WHENCE_SET, P(&pos)), EINVAL_);

    uint32_t iov[2] = {P("W"), 1};
    EXPECT(w_fd_pwrite(fd, P(iov), 1, 6, P(&n)), OK);
    memset(buf, 0, sizeof buf);
    uint32_t riov[2] = {P(buf), 32};
    EXPECT(w_fd_pread(fd, P(riov), 1, 0, P(&n)), OK);
    CHECK(n == 11 && strcmp(buf, "hello World") == 0, "fd_pwrite then fd_pread");
    EXPECT(w_fd_tell(fd, P(&pos)), OK);
    CHECK(pos == 7, "fd_pread/fd_pwrite leave the offset alone");
    EXPECT(w_fd_read(fd, BAD_PTR, 1, P(&n)), EFAULT_);
    uint32_t wild[2] = {BAD_PTR, 16};
    EXPECT(w_fd_read(fd, P(wild), 1, P(&n)), EFAULT_);

    struct filestat_view st = fstat_of(fd, &err);
    EXPECT(err, OK);
    CHECK(st.type == FT_REG && st.size == 11 && st.nlink == 1 && st.ino != 0, "fd_filestat_get of f");
    EXPECT(w_fd_filestat_set_size(fd, 5), OK);
    st = fstat_of(fd, &err);
    CHECK(st.size == 5, "fd_filestat_set_size truncates");
    EXPECT(w_fd_filestat_set_times(fd, 1000000123ull, 2000000456ull, ST_ATIM | ST_MTIM), OK);
    st = fstat_of(fd, &err);
    CHECK(st.atim == 1000000123ull && st.mtim == 2000000456ull, "timestamps keep nanoseconds");
    EXPECT(w_fd_filestat_set_times(fd, 0, 0, ST_ATIM | ST_ATIM_NOW), EINVAL_);
    EXPECT(w_fd_filestat_set_times(fd, 0, 0, ST_MTIM_NOW), OK);
    st = fstat_of(fd, &err);
    CHECK(st.atim == 1000000123ull && st.mtim > 2000000456ull, "MTIM_NOW sets only mtim");

    EXPECT(w_fd_advise(fd, 0, 0, 0), OK);
    EXPECT(w_fd_advise(fd, 0, 0, 99), EINVAL_);
    EXPECT(w_fd_allocate(fd, 0, 100), OK);
    st = fstat_of(fd, &err);
    CHECK(st.size == 100, "fd_allocate extends the file");
    EXPECT(w_fd_datasync(fd), OK);
    EXPECT(w_fd_sync(fd), OK);

    /* fdstat: flags are exactly what the guest set; rights only narrow. */
    uint8_t fs[24];
    EXPECT(w_fd_fdstat_get(fd, P(fs)), OK);
    uint16_t flags;
    memcpy(&flags, fs + 2, 2);
    CHECK(fs[0] == FT_REG && flags == 0, "fdstat of f: regular, no flags");
    EXPECT(w_fd_fdstat_set_flags(fd, FL_APPEND), OK);
    EXPECT(w_fd_fdstat_get(fd, P(fs)), OK);
    memcpy(&flags, fs + 2, 2);
    CHECK(flags == FL_APPEND, "fdstat reports APPEND");
    EXPECT(w_fd_seek(fd, 0, WHENCE_SET, P(&pos)), OK);
    EXPECT(write_str(fd, "!", &n), OK);
    st = fstat_of(fd, &err);
    CHECK(st.size == 101, "an APPEND write goes to the end");
    uint64_t base;
    memcpy(&base, fs + 8, 8);
    EXPECT(w_fd_fdstat_set_rights(fd, (int64_t)(base & ~R_FD_WRITE), 0), OK);
    EXPECT(write_str(fd, "x", &n), ENOTCAPABLE_);
    EXPECT(w_fd_fdstat_set_rights(fd, (int64_t)base, 0), ENOTCAPABLE_);

    /* renumber: `to` takes `from`'s file; `from` is gone. */
    int32_t other = -1;
    EXPECT(open_at(3, 0, "g", O_CREAT_, -1, 0, &other), OK);
    EXPECT(w_fd_renumber(fd, other), OK);
    EXPECT(w_fd_fdstat_get(fd, P(fs)), EBADF_);
    st = fstat_of(other, &err);
    CHECK(err == OK && st.size == 101, "after renumber, `to` is f");
    /* onto a closed number: taken (as the preview1 adapter and wasmer do), and back */
    EXPECT(w_fd_renumber(other, 999), OK);
    EXPECT(w_fd_fdstat_get(other, P(fs)), EBADF_);
    EXPECT(w_fd_renumber(999, other), OK);
    EXPECT(w_fd_renumber(other, 0x7fffffff), EBADF_); /* beyond any fd limit */
    EXPECT(w_fd_renumber(999, other), EBADF_);
    EXPECT(w_fd_close(other), OK);
    EXPECT(w_fd_close(other), EBADF_);
    EXPECT(w_fd_close(999), EBADF_);
}

static void tree(void) {
    int32_t err, fd = -1;
    EXPECT(w_path_create_directory(3, P("sub"), 3), OK);
    EXPECT(w_path_create_directory(3, P("sub"), 3), EEXIST_);
    struct filestat_view st = pstat_of(3, 0, "sub", &err);
    CHECK(err == OK && st.type == FT_DIR, "path_filestat_get of sub");
    pstat_of(3, 0, "missing", &err);
    EXPECT(err, ENOENT_);
    EXPECT(open_at(3, 0, "sub/x", O_CREAT_ | O_EXCL_, -1, 0, &fd), OK);
    EXPECT(w_fd_close(fd), OK);
    EXPECT(open_at(3, 0, "sub/x", O_CREAT_ | O_EXCL_, -1, 0, &fd), EEXIST_);

    /* readdir: ".", "..", "x", with stable cookies through a buffer that fits one entry. */
    int32_t dir = -1;
    /* A directory is never opened for writing: every right (fd_write among them) is EISDIR. */
    EXPECT(open_at(3, 0, "sub", O_DIRECTORY_, -1, 0, &dir), EISDIR_);
    EXPECT(open_at(3, 0, "sub", 0, R_FD_WRITE, 0, &dir), EISDIR_);
    EXPECT(open_at(3, 0, "sub", O_DIRECTORY_, (int64_t)~R_WRITES, 0, &dir), OK);
    uint8_t db[32];
    uint64_t cookie = 0;
    int seen_dot = 0, seen_dotdot = 0, seen_x = 0, rounds = 0;
    for (;;) {
        uint32_t used = 0;
        EXPECT(w_fd_readdir(dir, P(db), sizeof db, (int64_t)cookie, P(&used)), OK);
        if (used < 24 || rounds++ > 10) break;
        uint32_t namlen;
        memcpy(&cookie, db, 8);
        memcpy(&namlen, db + 16, 4);
        const char *name = (const char *)db + 24;
        if (namlen == 1 && name[0] == '.') seen_dot = 1;
        if (namlen == 2 && memcmp(name, "..", 2) == 0) seen_dotdot = 1;
        if (namlen == 1 && name[0] == 'x') seen_x = db[20] == FT_REG;
    }
    CHECK(seen_dot && seen_dotdot && seen_x, "readdir lists ., .. and x (a regular file)");
    uint32_t used = 0;
    EXPECT(w_fd_readdir(dir, P(db), 10, 0, P(&used)), OK);
    CHECK(used == 10, "a record cut by the buffer end fills the buffer");
    EXPECT(w_fd_readdir(3 + 100, P(db), sizeof db, 0, P(&used)), EBADF_);
    EXPECT(w_fd_close(dir), OK);

    /* symlinks */
    EXPECT(w_path_symlink(P("f"), 1, 3, P("link"), 4), OK);
    char lb[16] = {0};
    EXPECT(w_path_readlink(3, P("link"), 4, P(lb), sizeof lb, P(&used)), OK);
    CHECK(used == 1 && lb[0] == 'f', "path_readlink gives the target");
    EXPECT(w_path_readlink(3, P("f"), 1, P(lb), sizeof lb, P(&used)), EINVAL_);
    st = pstat_of(3, 0, "link", &err);
    CHECK(err == OK && st.type == FT_LINK, "link, not followed, is a symlink");
    st = pstat_of(3, FOLLOW, "link", &err);
    CHECK(err == OK && st.type == FT_REG, "link, followed, is the file");
    EXPECT(open_at(3, 0, "link", 0, -1, 0, &fd), ELOOP_);
    EXPECT(open_at(3, 0, "link", O_DIRECTORY_, -1, 0, &fd), ENOTDIR_);
    EXPECT(open_at(3, FOLLOW, "link", 0, -1, 0, &fd), OK);
    EXPECT(w_fd_close(fd), OK);
    EXPECT(w_path_symlink(P("loop"), 4, 3, P("loop"), 4), OK);
    EXPECT(open_at(3, FOLLOW, "loop", 0, -1, 0, &fd), ELOOP_);
    EXPECT(w_path_symlink(P("nowhere"), 7, 3, P("dangling"), 8), OK);
    EXPECT(open_at(3, FOLLOW, "dangling", 0, -1, 0, &fd), ENOENT_);
    EXPECT(open_at(3, 0, "f/", 0, -1, 0, &fd), ENOTDIR_);
    EXPECT(w_path_filestat_set_times(3, 0, P("f"), 1, 5000000007ull, 0, ST_ATIM), OK);
    st = pstat_of(3, 0, "f", &err);
    CHECK(st.atim == 5000000007ull, "path_filestat_set_times");

    /* hard link, rename, unlink, rmdir */
    EXPECT(w_path_link(3, 0, P("f"), 1, 3, P("hard"), 4), OK);
    st = pstat_of(3, 0, "f", &err);
    CHECK(st.nlink == 2, "path_link adds a link");
    EXPECT(w_path_rename(3, P("hard"), 4, 3, P("sub/hard2"), 9), OK);
    pstat_of(3, 0, "hard", &err);
    EXPECT(err, ENOENT_);
    EXPECT(w_path_unlink_file(3, P("sub/hard2"), 9), OK);
    EXPECT(w_path_unlink_file(3, P("sub"), 3), EISDIR_);
    EXPECT(w_path_remove_directory(3, P("sub"), 3), ENOTEMPTY_);
    EXPECT(w_path_remove_directory(3, P("f"), 1), ENOTDIR_);
    EXPECT(w_path_unlink_file(3, P("sub/x"), 5), OK);
    EXPECT(w_path_remove_directory(3, P("sub"), 3), OK);
    EXPECT(w_path_unlink_file(3, P("sub"), 3), ENOENT_);
}

static void sandbox(void) {
    int32_t fd = -1;
    EXPECT(open_at(3, 0, "../etc/passwd", 0, -1, 0, &fd), ENOTCAPABLE_);
    EXPECT(open_at(3, 0, "/etc/passwd", 0, -1, 0, &fd), ENOTCAPABLE_);
    EXPECT(open_at(4, FOLLOW, "escape/passwd", 0, -1, 0, &fd), ENOTCAPABLE_);
    int32_t nul = w_path_open(3, 0, P("f\0x"), 3, 0, -1, -1, 0, P(&fd));
    CHECK(nul == EINVAL_ || nul == EILSEQ_, "a path with a NUL byte is EINVAL or EILSEQ");
    EXPECT(w_path_open(3, 0, BAD_PTR, 8, 0, -1, -1, 0, P(&fd)), EFAULT_);
    /* the read-only preopen: reading works, nothing can be made or written */
    EXPECT(open_at(4, 0, "ro.txt", 0, -1, 0, &fd), OK);
    char buf[32] = {0};
    uint32_t n = 0;
    EXPECT(read_into(fd, buf, sizeof buf - 1, &n), OK);
    CHECK(strcmp(buf, "read only\n") == 0, "read the read-only preopen's file");
    EXPECT(write_str(fd, "x", &n), ENOTCAPABLE_);
    EXPECT(w_fd_close(fd), OK);
    EXPECT(open_at(4, 0, "new", O_CREAT_, -1, 0, &fd), ENOTCAPABLE_);
    EXPECT(w_path_create_directory(4, P("d"), 1), ENOTCAPABLE_);
    EXPECT(w_path_unlink_file(4, P("ro.txt"), 6), ENOTCAPABLE_);
}

static void poll(void) {
    int32_t fd = -1;
    EXPECT(open_at(3, 0, "f", 0, -1, 0, &fd), OK);
    uint8_t subs[3 * SUBSCRIPTION_SIZE];
    memset(subs, 0, sizeof subs);
    /* 0: a 1 ms relative clock; 1: fd_read on a file (ready at once); 2: fd_read on a bad fd */
    uint64_t ud = 100, timeout = 1000000;
    memcpy(subs, &ud, 8);
    subs[8] = 0;
    uint32_t clock_id = 1;
    memcpy(subs + CLOCK_OFFSET, &clock_id, 4);
    memcpy(subs + CLOCK_OFFSET + 8, &timeout, 8);
    ud = 101;
    memcpy(subs + SUBSCRIPTION_SIZE, &ud, 8);
    subs[SUBSCRIPTION_SIZE + 8] = 1;
    memcpy(subs + SUBSCRIPTION_SIZE + 16, &fd, 4);
    ud = 102;
    int32_t bad = 999;
    memcpy(subs + 2 * SUBSCRIPTION_SIZE, &ud, 8);
    subs[2 * SUBSCRIPTION_SIZE + 8] = 1;
    memcpy(subs + 2 * SUBSCRIPTION_SIZE + 16, &bad, 4);
    uint8_t events[3 * 32];
    uint32_t nevents = 0;
    EXPECT(w_poll_oneoff(P(subs + SUBSCRIPTION_SIZE), P(events), 2, P(&nevents)), OK);
    int file_ready = 0, bad_error = 0;
    for (uint32_t i = 0; i < nevents; i++) {
        uint64_t u;
        uint16_t e;
        memcpy(&u, events + 32 * i, 8);
        memcpy(&e, events + 32 * i + 8, 2);
        if (u == 101 && e == 0) file_ready = 1;
        if (u == 102 && e == EBADF_) bad_error = 1;
    }
    CHECK(file_ready && bad_error, "poll: a file is ready; a bad fd is an EBADF event");
    EXPECT(w_poll_oneoff(P(subs), P(events), 1, P(&nevents)), OK);
    CHECK(nevents == 1 && events[10] == 0, "poll: the clock fires");
    EXPECT(w_poll_oneoff(P(subs), P(events), 0, P(&nevents)), EINVAL_);
    EXPECT(w_fd_close(fd), OK);
}

int main(void) {
    args_env_clock_random();
    prestat();
    file_io();
    tree();
    sandbox();
    poll();
    if (failures) {
        printf("%d checks failed\n", failures);
        fflush(stdout);
        w_proc_exit(1);
    }
    printf("ok %s\n", WASI_MODULE);
    fflush(stdout);
    w_proc_exit(0);
}
