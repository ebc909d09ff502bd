/* sock_echo: TCP echo through the preview1 sock_* calls (wasi-libc's accept/recv/send/shutdown,
 * poll) and the WasmEdge extension (sock_open/bind/listen/connect).
 *
 *   sock_echo server FD N     serve N connections on listening fd FD (a --tcplisten preopen),
 *                             all at once through poll(), then print "served N" and exit
 *   sock_echo server open N   the same on a socket of its own, bound to 127.0.0.1:0
 *   sock_echo one FD          accept one connection on FD and echo it (a guest per connection)
 *   sock_echo client PORT MSG connect to 127.0.0.1:PORT, send MSG, shut down the write side,
 *                             print what comes back
 * A server first prints "port P" (its listening port). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wasmedge_socket.h"

static int fail(const char *what, int err) {
  printf("FAIL %s: %d\n", what, err);
  return 1;
}

static int send_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, 0);
    if (w < 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Echoes what is readable on `fd` now. 1 at EOF (or an error), else 0. */
static int echo_some(int fd) {
  char buf[16384];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  if (n <= 0) return 1;
  return send_all(fd, buf, (size_t)n) != 0;
}

static int open_listener(void) {
  int32_t fd;
  int e = we_sock_open(WE_AF_INET4, WE_SOCK_STREAM, &fd);
  if (e) return -e;
  int one = 1;
  we_sock_setsockopt(fd, WE_SOL_SOCKET, WE_SO_REUSEADDR, &one, sizeof one);
  we_addr_storage st;
  we_address a = we_ipv4(&st, 127, 0, 0, 1);
  if ((e = we_sock_bind(fd, &a, 0)) || (e = we_sock_listen(fd, 1024))) return -e;
  return fd;
}

static int server(int lfd, int want) {
  printf("port %u\n", (unsigned)we_local_port(lfd));
  fflush(stdout);
  struct pollfd *fds = calloc((size_t)want + 1, sizeof *fds);
  int n = 1, accepted = 0, done = 0;
  fds[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
  while (done < want) {
    /* Stop watching the listener once every connection has come. */
    int from = accepted < want ? 0 : 1;
    if (poll(fds + from, (nfds_t)(n - from), -1) < 0) return fail("poll", errno);
    if (from == 0 && fds[0].revents) {
      /* A shared listener may have been emptied by another guest meanwhile: EAGAIN. */
      int c = accept(lfd, NULL, NULL);
      if (c < 0 && errno != EAGAIN) return fail("accept", errno);
      if (c >= 0) {
        fds[n++] = (struct pollfd){.fd = c, .events = POLLIN};
        ++accepted;
      }
    }
    for (int i = 1; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (echo_some(fds[i].fd)) {
        close(fds[i].fd);
        fds[i--] = fds[--n];  /* the last one moves here: look at it next */
        ++done;
      }
    }
  }
  printf("served %d\n", done);
  return 0;
}

static int one(int lfd) {
  printf("port %u\n", (unsigned)we_local_port(lfd));
  fflush(stdout);
  /* The listener may be non-blocking (a --tcplisten one is): wait in poll, then accept. */
  int c;
  for (;;) {
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    if (poll(&p, 1, -1) < 0) return fail("poll", errno);
    if ((c = accept(lfd, NULL, NULL)) >= 0) break;
    if (errno != EAGAIN) return fail("accept", errno);
  }
  while (!echo_some(c)) {
  }
  close(c);
  return 0;
}

static int client(unsigned port, const char *msg) {
  int32_t fd;
  int e = we_sock_open(WE_AF_INET4, WE_SOCK_STREAM, &fd);
  if (e) return fail("sock_open", e);
  we_addr_storage st;
  we_address a = we_ipv4(&st, 127, 0, 0, 1);
  if ((e = we_sock_connect(fd, &a, port))) return fail("sock_connect", e);
  if (send_all(fd, msg, strlen(msg)) || shutdown(fd, SHUT_WR)) return fail("send", errno);
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) fwrite(buf, 1, (size_t)n, stdout);
  if (n < 0) return fail("recv", errno);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "server")) {
    int lfd = strcmp(argv[2], "open") ? atoi(argv[2]) : open_listener();
    if (lfd < 0) return fail("listener", -lfd);
    return server(lfd, atoi(argv[3]));
  }
  if (argc == 3 && !strcmp(argv[1], "one")) return one(atoi(argv[2]));
  if (argc == 4 && !strcmp(argv[1], "client")) return client((unsigned)atoi(argv[2]), argv[3]);
  fprintf(stderr, "usage: sock_echo server FD|open N | one FD | client PORT MSG\n");
  return 2;
}
