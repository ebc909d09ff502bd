/* poll_clock.c -- clock subscriptions of poll_oneoff, called raw.
 * Exercises:
 *  (a) two relative CLOCK_MONOTONIC subscriptions (50 ms, 10 ms): exactly one
 *      event, for the 10 ms one (userdata, type CLOCK, error 0), and >= ~10 ms
 *      of CLOCK_MONOTONIC elapsed;
 *  (b) an absolute (SUBSCRIPTION_CLOCK_ABSTIME) CLOCK_MONOTONIC deadline 20 ms
 *      ahead: must not fire early;
 *  (c) an absolute CLOCK_REALTIME deadline in the past fires immediately;
 *  (d) a relative timeout of 0 fires immediately;
 *  (e) nsubscriptions == 0 returns EINVAL.
 * (b) and (c) also carry a 2 s relative "watchdog" subscription so that a
 * host which mishandles absolute deadlines fails instead of hanging (Node's
 * uvwasi, for one, converts every ABSTIME deadline with the realtime clock and
 * lets past deadlines wrap around to a huge timeout).
 * Prints "ok" on success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#include "check.h"

#define MS 1000000ull
#define WATCHDOG_UD 999


static __wasi_timestamp_t now(__wasi_clockid_t id) {
    __wasi_timestamp_t t = 0;
    __wasi_errno_t e = __wasi_clock_time_get(id, 1, &t);
    if (e != 0) {
        fprintf(stderr, "FAIL: clock_time_get(%u) = %u\n", (unsigned)id, e);
        exit(1);
    }
    return t;
}

static __wasi_subscription_t clock_sub(__wasi_userdata_t ud, __wasi_clockid_t id,
                                       __wasi_timestamp_t timeout,
                                       __wasi_subclockflags_t flags) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = ud;
    s.u.tag = __WASI_EVENTTYPE_CLOCK;
    s.u.u.clock.id = id;
    s.u.u.clock.timeout = timeout;
    s.u.u.clock.precision = 0;
    s.u.u.clock.flags = flags;
    return s;
}

/* Polls `n` subscriptions; expects exactly one CLOCK event with userdata `ud`.
 * Returns the elapsed CLOCK_MONOTONIC time in ns. */
static __wasi_timestamp_t poll_expect_one(const char *what,
                                          const __wasi_subscription_t *subs,
                                          size_t n, __wasi_userdata_t ud) {
    __wasi_event_t ev[4];
    memset(ev, 0xAB, sizeof ev);
    __wasi_size_t nev = 12345;
    __wasi_timestamp_t t0 = now(__WASI_CLOCKID_MONOTONIC);
    __wasi_errno_t e = __wasi_poll_oneoff(subs, ev, n, &nev);
    __wasi_timestamp_t dt = now(__WASI_CLOCKID_MONOTONIC) - t0;
    CHECK(e == 0, "%s: poll_oneoff returned errno %u", what, e);
    if (e != 0)
        return dt;
    CHECK(nev == 1, "%s: got %u events, expected 1", what, (unsigned)nev);
    if (nev < 1)
        return dt;
    if (ev[0].userdata == WATCHDOG_UD)
        CHECK(0, "%s: the 2 s watchdog fired instead", what);
    else
        CHECK(ev[0].userdata == ud, "%s: userdata %llu, expected %llu", what,
              (unsigned long long)ev[0].userdata, (unsigned long long)ud);
    CHECK(ev[0].type == __WASI_EVENTTYPE_CLOCK, "%s: event type %u", what, ev[0].type);
    CHECK(ev[0].error == 0, "%s: event error %u", what, ev[0].error);
    return dt;
}

int main(void) {
    /* (a) two relative timers; the shorter one must win alone. */
    {
        __wasi_subscription_t s[2] = {
            clock_sub(50, __WASI_CLOCKID_MONOTONIC, 50 * MS, 0),
            clock_sub(10, __WASI_CLOCKID_MONOTONIC, 10 * MS, 0),
        };
        __wasi_timestamp_t dt = poll_expect_one("(a) relative 50ms+10ms", s, 2, 10);
        CHECK(dt >= 9 * MS, "(a) only %llu ns elapsed, expected ~10 ms",
              (unsigned long long)dt);
    }

    /* (b) absolute monotonic deadline 20 ms in the future. */
    {
        __wasi_timestamp_t deadline = now(__WASI_CLOCKID_MONOTONIC) + 20 * MS;
        __wasi_subscription_t s[2] = {
            clock_sub(7, __WASI_CLOCKID_MONOTONIC, deadline,
                      __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME),
            clock_sub(WATCHDOG_UD, __WASI_CLOCKID_MONOTONIC, 2000 * MS, 0),
        };
        poll_expect_one("(b) abstime monotonic +20ms", s, 2, 7);
        __wasi_timestamp_t t = now(__WASI_CLOCKID_MONOTONIC);
        /* 1 ms of slack for clock rounding in the host. */
        CHECK(t + 1 * MS >= deadline, "(b) woke %llu ns before the deadline",
              (unsigned long long)(deadline - t));
    }

    /* (c) absolute realtime deadline one second in the past. */
    {
        __wasi_timestamp_t past = now(__WASI_CLOCKID_REALTIME) - 1000 * MS;
        __wasi_subscription_t s[2] = {
            clock_sub(3, __WASI_CLOCKID_REALTIME, past,
                      __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME),
            clock_sub(WATCHDOG_UD, __WASI_CLOCKID_MONOTONIC, 2000 * MS, 0),
        };
        __wasi_timestamp_t dt = poll_expect_one("(c) abstime realtime in the past", s, 2, 3);
        CHECK(dt < 500 * MS, "(c) took %llu ns, expected immediate", (unsigned long long)dt);
    }

    /* (d) relative timeout of zero. */
    {
        __wasi_subscription_t s = clock_sub(4, __WASI_CLOCKID_MONOTONIC, 0, 0);
        __wasi_timestamp_t dt = poll_expect_one("(d) relative 0", &s, 1, 4);
        CHECK(dt < 500 * MS, "(d) took %llu ns, expected immediate", (unsigned long long)dt);
    }

    /* (e) no subscriptions at all. */
    {
        __wasi_subscription_t s = clock_sub(5, __WASI_CLOCKID_MONOTONIC, 0, 0);
        __wasi_event_t ev;
        __wasi_size_t nev = 0;
        __wasi_errno_t e = __wasi_poll_oneoff(&s, &ev, 0, &nev);
        CHECK(e == __WASI_ERRNO_INVAL, "(e) nsubscriptions=0 returned errno %u, expected %u",
              e, __WASI_ERRNO_INVAL);
    }

    if (failed)
        return 1;
    puts("ok");
    return 0;
}
