/* tree_ops.c -- a portable POSIX program that creates, walks, renames and deletes a file tree,
 * printing a transcript that names paths relative to its root. Built both as a wasm32-wasi guest
 * and natively: run under a preopen, the guest must print exactly what the native build prints
 * on a real directory. Usage: tree_ops ROOT (an empty directory). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[512];

static const char *at(const char *rel) {
    static char bufs[4][1024];
    static int next;
    char *p = bufs[next++ & 3];
    snprintf(p, sizeof bufs[0], "%s/%s", root, rel);
    return p;
}

/* errno by name: the numbers differ between WASI and Linux, and so do strerror's texts. */
static const char *errname(int e) {
    switch (e) {
        case EEXIST: return "EEXIST";
        case ENOENT: return "ENOENT";
        case ENOTEMPTY: return "ENOTEMPTY";
        case EISDIR: return "EISDIR";
        case ENOTDIR: return "ENOTDIR";
        case EPERM: return "EPERM";
        case EACCES: return "EACCES";
        case ELOOP: return "ELOOP";
        case EINVAL: return "EINVAL";
        case EXDEV: return "EXDEV";
        default: return "another errno";
    }
}

static void report(const char *what, int rc) {
    printf("%s: %s\n", what, rc == 0 ? "ok" : errname(errno));
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Lists `rel` recursively, sorted, with type and size; directories by their entry count. */
static void walk(const char *rel, int depth) {
    DIR *d = opendir(at(rel));
    if (!d) {
        printf("%*sopendir %s: %s\n", depth * 2, "", rel, errname(errno));
        return;
    }
    char *names[256];
    int n = 0, dots = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) {
            dots++;
            continue;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp);
    printf("%*s%s/ (%d entries, %d dot entries)\n", depth * 2, "", rel, n, dots);
    for (int i = 0; i < n; i++) {
        char child[512];
        snprintf(child, sizeof child, "%s/%s", rel, names[i]);
        struct stat st;
        if (lstat(at(child), &st) != 0) {
            printf("%*s%s: lstat %s\n", depth * 2 + 2, "", names[i], errname(errno));
        } else if (S_ISDIR(st.st_mode)) {
            walk(child, depth + 1);
        } else if (S_ISLNK(st.st_mode)) {
            char target[256] = {0};
            ssize_t len = readlink(at(child), target, sizeof target - 1);
            printf("%*s%s -> %s\n", depth * 2 + 2, "", names[i], len >= 0 ? target : errname(errno));
        } else {
            printf("%*s%s %lld bytes, %lu links\n", depth * 2 + 2, "", names[i], (long long)st.st_size,
                   (unsigned long)st.st_nlink);
        }
        free(names[i]);
    }
}

static void put(const char *rel, const char *text, int times) {
    FILE *f = fopen(at(rel), "w");
    if (!f) {
        printf("create %s: %s\n", rel, errname(errno));
        return;
    }
    for (int i = 0; i < times; i++) fputs(text, f);
    fclose(f);
}

/* rm -r */
static void remove_tree(const char *rel) {
    struct stat st;
    if (lstat(at(rel), &st) == 0 && S_ISDIR(st.st_mode)) {
        DIR *d = opendir(at(rel));
        struct dirent *e;
        char *names[256];
        int n = 0;
        while (d && (e = readdir(d)) && n < 256)
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[n++] = strdup(e->d_name);
        if (d) closedir(d);
        for (int i = 0; i < n; i++) {
            char child[512];
            snprintf(child, sizeof child, "%s/%s", rel, names[i]);
            remove_tree(child);
            free(names[i]);
        }
        if (rmdir(at(rel)) != 0) printf("rmdir %s: %s\n", rel, errname(errno));
    } else if (unlink(at(rel)) != 0) {
        printf("unlink %s: %s\n", rel, errname(errno));
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fputs("usage: tree_ops ROOT\n", stderr);
        return 2;
    }
    snprintf(root, sizeof root, "%s", argv[1]);

    report("mkdir src", mkdir(at("src"), 0755));
    report("mkdir src/lib", mkdir(at("src/lib"), 0755));
    report("mkdir src/lib/deep", mkdir(at("src/lib/deep"), 0755));
    report("mkdir src again", mkdir(at("src"), 0755));
    put("src/main.c", "int main(void) { return 0; }\n", 3);
    put("src/lib/util.c", "/* util */\n", 100);
    put("src/lib/deep/x.h", "#pragma once\n", 1);
    put("README", "tree\n", 1);
    report("symlink", symlink("src/main.c", at("main_link")));
    report("hard link", link(at("README"), at("README.hard")));
    report("open missing", open(at("nope/file"), O_RDONLY) < 0 ? -1 : 0);
    report("rmdir non-empty", rmdir(at("src")));
    report("unlink dir", unlink(at("src/lib")));
    walk(".", 0);

    report("rename dir", rename(at("src/lib"), at("lib2")));
    report("rename file over file", rename(at("README"), at("src/main.c")));
    report("rename dir over non-empty dir", rename(at("lib2"), at("src")));
    report("truncate", truncate(at("lib2/util.c"), 5));
    int fd = open(at("lib2/util.c"), O_WRONLY | O_APPEND);
    if (fd >= 0) {
        report("append", write(fd, "tail\n", 5) == 5 ? 0 : -1);
        close(fd);
    }
    walk(".", 0);

    remove_tree("lib2");
    remove_tree("src");
    report("unlink link", unlink(at("main_link")));
    report("unlink hard", unlink(at("README.hard")));
    walk(".", 0);
    return 0;
}
