/* files.c -- a file tree under a preopen, as real programs use it through wasi-libc: mkdir,
 * write, read, pread/pwrite, stat, readdir, rename, unlink, rmdir, and escape attempts that
 * must all fail. argv[1] is the preopen's guest path; the host put a symlink "escape" -> /etc
 * in it. Exit 0 and "ok" when every check holds. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures;
#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (!(cond)) {                                     \
            fprintf(stderr, "FAIL: " __VA_ARGS__);         \
            fprintf(stderr, " (errno %d)\n", errno);       \
            failures++;                                    \
        }                                                  \
    } while (0)

/* root + "/" + rel, in one of two buffers used in turn, so that a call can take two paths. */
static const char *at(const char *root, const char *rel) {
    static char paths[2][512];
    static int next;
    char *p = paths[next];
    next ^= 1;
    snprintf(p, sizeof paths[0], "%s/%s", root, rel);
    return p;
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *root = argv[1];

    CHECK(mkdir(at(root, "a"), 0755) == 0, "mkdir a");
    CHECK(mkdir(at(root, "a/b"), 0755) == 0, "mkdir a/b");
    CHECK(mkdir(at(root, "a"), 0755) != 0 && errno == EEXIST, "mkdir a again gives EEXIST");

    FILE *f = fopen(at(root, "a/b/f.txt"), "w");
    CHECK(f != NULL, "create f.txt");
    if (f) {
        fputs("hello files", f);
        fclose(f);
    }
    char buf[64] = {0};
    f = fopen(at(root, "a/b/f.txt"), "r");
    CHECK(f && fgets(buf, sizeof buf, f) && strcmp(buf, "hello files") == 0, "read f.txt back");
    if (f) fclose(f);

    struct stat st;
    CHECK(stat(at(root, "a/b/f.txt"), &st) == 0 && st.st_size == 11 && S_ISREG(st.st_mode), "stat f.txt");
    CHECK(stat(at(root, "a/b"), &st) == 0 && S_ISDIR(st.st_mode), "stat a/b is a directory");

    int fd = open(at(root, "a/b/f.txt"), O_RDWR);
    CHECK(fd >= 0, "open O_RDWR");
    if (fd >= 0) {
        CHECK(pwrite(fd, "HE", 2, 0) == 2, "pwrite");
        memset(buf, 0, sizeof buf);
        CHECK(pread(fd, buf, 5, 0) == 5 && strcmp(buf, "HEllo") == 0, "pread sees pwrite");
        CHECK(lseek(fd, 0, SEEK_CUR) == 0, "pread/pwrite leave the offset alone");
        close(fd);
    }

    DIR *d = opendir(at(root, "a/b"));
    CHECK(d != NULL, "opendir a/b");
    int dot = 0, dotdot = 0, file = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".")) dot++;
            else if (!strcmp(e->d_name, "..")) dotdot++;
            else if (!strcmp(e->d_name, "f.txt")) file += e->d_type == DT_REG;
        }
        closedir(d);
    }
    CHECK(dot == 1 && dotdot == 1 && file == 1, "readdir lists ., .. and f.txt once");

    CHECK(rename(at(root, "a/b/f.txt"), at(root, "a/g.txt")) == 0, "rename across directories");
    CHECK(stat(at(root, "a/b/f.txt"), &st) != 0 && errno == ENOENT, "old name is gone");
    CHECK(rmdir(at(root, "a")) != 0 && errno == ENOTEMPTY, "rmdir of a non-empty directory");

    /* Escapes: each must fail, and none may reach /etc/passwd. */
    CHECK(open(at(root, "../../../../etc/passwd"), O_RDONLY) < 0, "escape with ..");
    CHECK(open(at(root, "escape/passwd"), O_RDONLY) < 0, "escape through a symlink to /etc");
    CHECK(open("/etc/passwd", O_RDONLY) < 0, "absolute path outside every preopen");
    CHECK(open(at(root, "a/../../etc/passwd"), O_RDONLY) < 0, "escape with a/../..");
    CHECK(mkdir(at(root, "escape/wasio-must-not-exist"), 0755) != 0, "mkdir through the symlink");

    /* Symlinks, hard links, times, sizes, through wasi-libc as programs call them. */
    CHECK(symlink("g.txt", at(root, "a/sym")) == 0, "symlink");
    char target[16] = {0};
    CHECK(readlink(at(root, "a/sym"), target, sizeof target) == 5 && !memcmp(target, "g.txt", 5), "readlink");
    CHECK(readlink(at(root, "a/sym"), target, 2) == 2, "readlink into a short buffer truncates");
    CHECK(lstat(at(root, "a/sym"), &st) == 0 && S_ISLNK(st.st_mode), "lstat sees the symlink");
    CHECK(stat(at(root, "a/sym"), &st) == 0 && S_ISREG(st.st_mode), "stat follows it");
    CHECK(link(at(root, "a/g.txt"), at(root, "a/hard")) == 0, "link");
    CHECK(stat(at(root, "a/g.txt"), &st) == 0 && st.st_nlink == 2, "two links");
    struct timespec ts[2] = {{1000000000, 123456789}, {1000000001, 987654321}};
    CHECK(utimensat(AT_FDCWD, at(root, "a/g.txt"), ts, 0) == 0, "utimensat");
    CHECK(stat(at(root, "a/g.txt"), &st) == 0 && st.st_mtim.tv_sec == 1000000001 &&
              st.st_mtim.tv_nsec == 987654321, "mtime kept to the nanosecond");
    CHECK(truncate(at(root, "a/g.txt"), 3) == 0 && stat(at(root, "a/g.txt"), &st) == 0 && st.st_size == 3,
          "truncate");
    fd = open(at(root, "a/g.txt"), O_WRONLY | O_APPEND);
    CHECK(fd >= 0 && write(fd, "!", 1) == 1 && fsync(fd) == 0 && ftruncate(fd, 2) == 0, "append, fsync, ftruncate");
    if (fd >= 0) close(fd);
    CHECK(symlink("/etc/passwd", at(root, "a/out")) == 0, "a symlink may point anywhere");
    CHECK(open(at(root, "a/out"), O_RDONLY) < 0, "but following it out is refused");
    CHECK(unlink(at(root, "a/sym")) == 0 && unlink(at(root, "a/hard")) == 0 && unlink(at(root, "a/out")) == 0,
          "unlink the links");

    CHECK(unlink(at(root, "a/g.txt")) == 0, "unlink g.txt");
    CHECK(unlink(at(root, "a/b")) != 0, "unlink of a directory fails");
    CHECK(rmdir(at(root, "a/b")) == 0, "rmdir a/b");
    CHECK(rmdir(at(root, "a")) == 0, "rmdir a");
    CHECK(stat(at(root, "a"), &st) != 0 && errno == ENOENT, "a is gone");

    if (failures) return 1;
    puts("ok");
    return 0;
}
