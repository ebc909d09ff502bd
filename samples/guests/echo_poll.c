/* echo_poll: one guest serving every connection on a listening socket the host hands in
 * (fd 3, wasmtime's --tcplisten; wasio's config::net::listeners), all at once: poll() (WASI
 * poll_oneoff) watches the listener and every connection, and accept/recv/send are preview1's
 * sock_* calls. Every wait suspends the guest on its worker's reactor.
 *
 *   echo_poll N    serve N connections, then exit (0: serve forever) */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* Echoes what is readable on `fd` now; 1 at EOF or on an error. */
static int echo_some(int fd) {
  static char buf[65536];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  if (n <= 0) return 1;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = send(fd, buf + off, (size_t)(n - off), 0);
    if (w < 0) return 1;
    off += w;
  }
  return 0;
}

int main(int argc, char **argv) {
  const int listener = 3;
  long want = argc > 1 ? atol(argv[1]) : 0, served = 0;
  size_t cap = 1024, n = 1;
  struct pollfd *fds = malloc(cap * sizeof *fds);
  fds[0] = (struct pollfd){.fd = listener, .events = POLLIN};
  while (want == 0 || served < want) {
    if (poll(fds, (nfds_t)n, -1) < 0) {
      perror("poll");
      return 1;
    }
    if (fds[0].revents) {
      int c = accept(listener, NULL, NULL);
      if (c >= 0) {
        if (n == cap) fds = realloc(fds, (cap *= 2) * sizeof *fds);
        fds[n++] = (struct pollfd){.fd = c, .events = POLLIN};
      } else if (errno != EAGAIN) {
        perror("accept");
      }
    }
    for (size_t i = 1; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (echo_some(fds[i].fd)) {
        close(fds[i].fd);
        fds[i--] = fds[--n]; /* the last one moves here: look at it next */
        ++served;
      }
    }
  }
  return 0;
}
