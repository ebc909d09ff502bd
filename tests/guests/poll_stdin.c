/* poll_stdin.c -- poll_oneoff on file descriptors, called raw.
 * Exercises:
 *  - FD_WRITE on fd 1 (plus a 5 s clock) reports an FD_WRITE event at once
 *    with error 0;
 *  - FD_READ on fd 0 combined with a 5 s relative clock timeout: whenever the
 *    read event arrives, reads what is available and echoes it to stdout,
 *    until read returns 0 (EOF). On EOF the event may carry the HANGUP flag or
 *    nbytes == 0; both are accepted. A timeout with no data is a failure.
 * Feed it through a pipe, e.g. `printf 'abc' | host poll_stdin.wasm`. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#define SEC 1000000000ull
enum { UD_READ = 1, UD_WRITE = 2, UD_TIMEOUT = 3 };

static void fail(const char *msg, unsigned v) {
    fprintf(stderr, "FAIL: %s (%u)\n", msg, v);
    _exit(1);
}

static __wasi_subscription_t timeout_sub(void) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = UD_TIMEOUT;
    s.u.tag = __WASI_EVENTTYPE_CLOCK;
    s.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    s.u.u.clock.timeout = 5 * SEC;
    return s;
}

static __wasi_subscription_t fd_sub(__wasi_userdata_t ud, uint8_t type, __wasi_fd_t fd) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = ud;
    s.u.tag = type;
    if (type == __WASI_EVENTTYPE_FD_READ)
        s.u.u.fd_read.file_descriptor = fd;
    else
        s.u.u.fd_write.file_descriptor = fd;
    return s;
}

static void write_all(const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(1, p, n);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            fail("write to stdout", (unsigned)errno);
        }
        p += w;
        n -= (size_t)w;
    }
}

int main(void) {
    __wasi_event_t ev[2];
    __wasi_size_t nev;
    __wasi_errno_t e;

    /* 1. stdout must be writable right away. */
    {
        __wasi_subscription_t s[2] = { fd_sub(UD_WRITE, __WASI_EVENTTYPE_FD_WRITE, 1),
                                       timeout_sub() };
        nev = 0;
        e = __wasi_poll_oneoff(s, ev, 2, &nev);
        if (e != 0)
            fail("poll_oneoff(FD_WRITE fd 1) errno", e);
        if (nev < 1)
            fail("poll_oneoff(FD_WRITE fd 1) returned no events", nev);
        int saw_write = 0;
        for (__wasi_size_t i = 0; i < nev; i++) {
            if (ev[i].userdata == UD_TIMEOUT)
                fail("FD_WRITE on fd 1 timed out", 0);
            if (ev[i].userdata != UD_WRITE || ev[i].type != __WASI_EVENTTYPE_FD_WRITE)
                fail("unexpected event for FD_WRITE subscription, type", ev[i].type);
            if (ev[i].error != 0)
                fail("FD_WRITE event error", ev[i].error);
            saw_write = 1;
        }
        if (!saw_write)
            fail("no FD_WRITE event", 0);
    }

    /* 2. echo stdin until EOF, waiting with poll_oneoff before each read. */
    static char buf[64 * 1024];
    for (;;) {
        __wasi_subscription_t s[2] = { fd_sub(UD_READ, __WASI_EVENTTYPE_FD_READ, 0),
                                       timeout_sub() };
        nev = 0;
        e = __wasi_poll_oneoff(s, ev, 2, &nev);
        if (e != 0)
            fail("poll_oneoff(FD_READ fd 0) errno", e);
        if (nev < 1 || nev > 2)
            fail("poll_oneoff(FD_READ fd 0) bad event count", nev);

        int readable = 0;
        for (__wasi_size_t i = 0; i < nev; i++) {
            if (ev[i].userdata == UD_READ) {
                if (ev[i].type != __WASI_EVENTTYPE_FD_READ)
                    fail("FD_READ subscription got event type", ev[i].type);
                if (ev[i].error != 0)
                    fail("FD_READ event error", ev[i].error);
                readable = 1;
            } else if (ev[i].userdata != UD_TIMEOUT) {
                fail("unknown userdata", (unsigned)ev[i].userdata);
            }
        }
        if (!readable)
            fail("timed out (5 s) waiting for stdin", 0);

        ssize_t n = read(0, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            fail("read stdin errno", (unsigned)errno);
        }
        if (n == 0)
            return 0;              /* EOF (HANGUP or nbytes==0 both fine) */
        write_all(buf, (size_t)n);
    }
}
