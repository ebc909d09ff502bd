/* sock_calls: the sock_* calls and their error cases, through the raw imports.
 *
 *   sock_calls all LISTEN_FD   run with --tcplisten 127.0.0.1:0 (LISTEN_FD), and
 *                              --allow-bind and --allow-connect for 127.0.0.1:* and [::1]:*;
 *                              stdout is a pipe
 *   sock_calls none            run without network: every way in is refused
 * Prints "ok" and exits 0 when every check holds, else one FAIL line per failed check. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

#include "wasmedge_socket.h"

static int failures;
#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond)) {                                                   \
      printf("FAIL line %d: %s\n", __LINE__, #cond);                 \
      ++failures;                                                    \
    }                                                                \
  } while (0)
#define EXPECT_ERR(call, err)                                        \
  do {                                                               \
    int32_t got_ = (call);                                           \
    if (got_ != (err)) {                                             \
      printf("FAIL line %d: %s = %d, want %d\n", __LINE__, #call, got_, (int)(err)); \
      ++failures;                                                    \
    }                                                                \
  } while (0)

/* Beyond the end of memory: every pointer check must catch it. */
#define WILD ((void *)0xfffffff0u)

static int32_t stream_socket(void) {
  int32_t fd = -1;
  EXPECT_ERR(we_sock_open(WE_AF_INET4, WE_SOCK_STREAM, &fd), 0);
  return fd;
}

static int32_t bound_socket(int type) {
  int32_t fd = -1;
  EXPECT_ERR(we_sock_open(WE_AF_INET4, type, &fd), 0);
  we_addr_storage st;
  we_address a = we_ipv4(&st, 127, 0, 0, 1);
  EXPECT_ERR(we_sock_bind(fd, &a, 0), 0);
  return fd;
}

static void preview1_errors(int32_t lfd) {
  int32_t nfd;
  uint32_t n;
  uint16_t ro;
  char buf[16];
  we_iovec iov = {(uint8_t *)buf, sizeof buf};
  /* Not a socket, no such fd. */
  EXPECT_ERR(we_sock_accept(1, 0, &nfd), __WASI_ERRNO_NOTSOCK);
  EXPECT_ERR(we_sock_accept(99, 0, &nfd), __WASI_ERRNO_BADF);
  EXPECT_ERR(we_sock_recv(1, &iov, 1, 0, &n, &ro), __WASI_ERRNO_NOTSOCK);
  EXPECT_ERR(we_sock_send(99, &iov, 1, 0, &n), __WASI_ERRNO_BADF);
  EXPECT_ERR(we_sock_shutdown(1, 1), __WASI_ERRNO_NOTSOCK);
  /* Flags. */
  EXPECT_ERR(we_sock_accept(lfd, __WASI_FDFLAGS_APPEND, &nfd), __WASI_ERRNO_INVAL);
  EXPECT_ERR(we_sock_shutdown(lfd, 0), __WASI_ERRNO_INVAL);
  EXPECT_ERR(we_sock_shutdown(lfd, 4), __WASI_ERRNO_INVAL);
  EXPECT_ERR(we_sock_recv(lfd, &iov, 1, 4, &n, &ro), __WASI_ERRNO_INVAL);
  EXPECT_ERR(we_sock_send(lfd, &iov, 1, 1, &n), __WASI_ERRNO_INVAL);
  /* A listener has no peer. */
  EXPECT_ERR(we_sock_recv(lfd, &iov, 1, 0, &n, &ro), __WASI_ERRNO_NOTCONN);
  EXPECT_ERR(we_sock_shutdown(lfd, 3), __WASI_ERRNO_NOTCONN);
  /* A --tcplisten listener comes non-blocking, as wasmtime hands it over: with nothing
     pending, accept is again, not a wait. Cleared, accept waits (the calls below rely on it). */
  __wasi_fdstat_t st;
  CHECK(__wasi_fd_fdstat_get(lfd, &st) == 0 && st.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM);
  CHECK(st.fs_rights_base & __WASI_RIGHTS_SOCK_ACCEPT);
  CHECK(st.fs_flags == __WASI_FDFLAGS_NONBLOCK);
  EXPECT_ERR(we_sock_accept(lfd, 0, &nfd), __WASI_ERRNO_AGAIN);
  CHECK(__wasi_fd_fdstat_set_flags(lfd, 0) == 0);
  /* Bad pointers. */
  EXPECT_ERR(we_sock_accept(lfd, 0, WILD), __WASI_ERRNO_FAULT);
  EXPECT_ERR(we_sock_recv(lfd, WILD, 1, 0, &n, &ro), __WASI_ERRNO_FAULT);
  EXPECT_ERR(we_sock_recv(lfd, &iov, 1, 0, WILD, &ro), __WASI_ERRNO_FAULT);
  EXPECT_ERR(we_sock_send(lfd, &iov, 1, 0, WILD), __WASI_ERRNO_FAULT);
}

/* Connects a client to listener `lfd` and accepts it: *client, *server. */
static void connected_pair(int32_t lfd, int32_t *client, int32_t *server) {
  *client = stream_socket();
  we_addr_storage st;
  we_address a = we_ipv4(&st, 127, 0, 0, 1);
  EXPECT_ERR(we_sock_connect(*client, &a, we_local_port(lfd)), 0);
  EXPECT_ERR(we_sock_accept(lfd, __WASI_FDFLAGS_NONBLOCK, server), 0);
}

static void stream_calls(int32_t lfd) {
  int32_t c, s;
  connected_pair(lfd, &c, &s);
  __wasi_fdstat_t st;
  CHECK(__wasi_fd_fdstat_get(s, &st) == 0 && st.fs_flags == __WASI_FDFLAGS_NONBLOCK);
  uint32_t n = 0;
  uint16_t ro = 7;
  char buf[64];
  we_iovec in = {(uint8_t *)buf, sizeof buf};
  /* NONBLOCK accepted socket, nothing sent yet. */
  EXPECT_ERR(we_sock_recv(s, &in, 1, 0, &n, &ro), __WASI_ERRNO_AGAIN);
  we_iovec out = {(uint8_t *)"hello, socket", 13};
  EXPECT_ERR(we_sock_send(c, &out, 1, 0, &n), 0);
  CHECK(n == 13);
  /* Peek leaves the data; waitall waits for all 13 bytes. */
  CHECK(__wasi_fd_fdstat_set_flags(s, 0) == 0);
  we_iovec five = {(uint8_t *)buf, 5};
  EXPECT_ERR(we_sock_recv(s, &five, 1, __WASI_RIFLAGS_RECV_PEEK, &n, &ro), 0);
  CHECK(n == 5 && memcmp(buf, "hello", 5) == 0 && ro == 0);
  we_iovec all = {(uint8_t *)buf, 13};
  EXPECT_ERR(we_sock_recv(s, &all, 1, __WASI_RIFLAGS_RECV_WAITALL, &n, &ro), 0);
  CHECK(n == 13 && memcmp(buf, "hello, socket", 13) == 0);
  /* Addresses. */
  we_addr_storage as;
  we_address a = {&as, sizeof as};
  uint32_t port = 0;
  EXPECT_ERR(we_sock_getpeeraddr(s, &a, &port), 0);
  CHECK(as.family == WE_AF_INET4 && as.addr[0] == 127 && as.addr[3] == 1 && port == we_local_port(c));
  EXPECT_ERR(we_sock_getpeeraddr(lfd, &a, &port), __WASI_ERRNO_NOTCONN);
  EXPECT_ERR(we_sock_getlocaladdr(s, WILD, &port), __WASI_ERRNO_FAULT);
  we_address short_buf = {&as, 8};
  EXPECT_ERR(we_sock_getlocaladdr(s, &short_buf, &port), __WASI_ERRNO_INVAL);
  /* Options. */
  int32_t v = -1;
  EXPECT_ERR(we_sock_getsockopt(s, WE_SOL_SOCKET, WE_SO_TYPE, &v, 4), 0);
  CHECK(v == WE_SOCK_STREAM);
  EXPECT_ERR(we_sock_getsockopt(lfd, WE_SOL_SOCKET, WE_SO_ACCEPTCONN, &v, 4), 0);
  CHECK(v == 1);
  uint32_t len = 4;  /* WasmEdge's form: a pointer to the length */
  EXPECT_ERR(we_sock_getsockopt(s, WE_SOL_SOCKET, WE_SO_ERROR, &v, (uint32_t)(uintptr_t)&len), 0);
  CHECK(v == 0 && len == 4);
  int32_t one = 1;
  EXPECT_ERR(we_sock_setsockopt(c, WE_SOL_TCP, WE_TCP_NODELAY, &one, 4), 0);
  EXPECT_ERR(we_sock_getsockopt(c, WE_SOL_TCP, WE_TCP_NODELAY, &v, 4), 0);
  CHECK(v == 1);
  EXPECT_ERR(we_sock_getsockopt(c, WE_SOL_SOCKET, WE_SO_LINGER, &v, 4), __WASI_ERRNO_NOTSUP);
  EXPECT_ERR(we_sock_getsockopt(c, WE_SOL_SOCKET, 99, &v, 4), __WASI_ERRNO_INVAL);
  EXPECT_ERR(we_sock_getsockopt(c, 5, WE_SO_TYPE, &v, 4), __WASI_ERRNO_INVAL);
  EXPECT_ERR(we_sock_setsockopt(c, WE_SOL_SOCKET, WE_SO_KEEPALIVE, &one, 2), __WASI_ERRNO_INVAL);
  /* Shutdown: the peer sees EOF; a second connect is isconn. */
  EXPECT_ERR(we_sock_shutdown(c, __WASI_SDFLAGS_WR), 0);
  EXPECT_ERR(we_sock_recv(s, &in, 1, 0, &n, &ro), 0);
  CHECK(n == 0);
  EXPECT_ERR(we_sock_connect(c, &a, port), __WASI_ERRNO_ISCONN);
  /* Sending after shutting down the write side: EPIPE, never a signal. */
  close(s);
  EXPECT_ERR(we_sock_send(c, &out, 1, 0, &n), __WASI_ERRNO_PIPE);
  close(c);
}

static void extension_errors(void) {
  int32_t fd;
  EXPECT_ERR(we_sock_open(WE_AF_UNIX, WE_SOCK_STREAM, &fd), __WASI_ERRNO_AFNOSUPPORT);
  EXPECT_ERR(we_sock_open(WE_AF_UNSPEC, WE_SOCK_STREAM, &fd), __WASI_ERRNO_INVAL);
  EXPECT_ERR(we_sock_open(WE_AF_INET4, 7, &fd), __WASI_ERRNO_INVAL);
  EXPECT_ERR(we_sock_open(WE_AF_INET4, WE_SOCK_STREAM, WILD), __WASI_ERRNO_FAULT);
  fd = stream_socket();
  we_addr_storage st;
  we_address a = we_ipv4(&st, 127, 0, 0, 1);
  EXPECT_ERR(we_sock_bind(fd, &a, 70000), __WASI_ERRNO_INVAL);
  we_address odd = {&st, 7};
  EXPECT_ERR(we_sock_bind(fd, &odd, 0), __WASI_ERRNO_INVAL);
  EXPECT_ERR(we_sock_bind(fd, WILD, 0), __WASI_ERRNO_FAULT);
  st.family = WE_AF_UNIX;
  EXPECT_ERR(we_sock_bind(fd, &a, 0), __WASI_ERRNO_AFNOSUPPORT);
  /* Outside the allow-lists (127.0.0.1 only). */
  a = we_ipv4(&st, 127, 0, 0, 2);
  EXPECT_ERR(we_sock_bind(fd, &a, 0), __WASI_ERRNO_ACCES);
  EXPECT_ERR(we_sock_connect(fd, &a, 80), __WASI_ERRNO_ACCES);
  EXPECT_ERR(we_sock_listen(fd, 5), __WASI_ERRNO_ACCES);  /* unbound: every address */
  uint8_t raw[4] = {127, 0, 0, 2};  /* the v1 form, a bare address */
  we_address v1 = {raw, 4};
  EXPECT_ERR(we_sock_connect(fd, &v1, 80), __WASI_ERRNO_ACCES);
  /* A port nobody listens on. */
  int32_t gone = bound_socket(WE_SOCK_STREAM);
  uint32_t port = we_local_port(gone);
  close(gone);
  a = we_ipv4(&st, 127, 0, 0, 1);
  EXPECT_ERR(we_sock_connect(fd, &a, port), __WASI_ERRNO_CONNREFUSED);
  close(fd);
  /* A non-blocking connect is in progress (or done at once on loopback). */
  int32_t l2 = bound_socket(WE_SOCK_STREAM);
  EXPECT_ERR(we_sock_listen(l2, 4), 0);
  fd = stream_socket();
  CHECK(__wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_NONBLOCK) == 0);
  int32_t e = we_sock_connect(fd, &a, we_local_port(l2));
  CHECK(e == 0 || e == __WASI_ERRNO_INPROGRESS);
  close(fd);
  close(l2);
}

static void udp_calls(void) {
  int32_t a = bound_socket(WE_SOCK_DGRAM), b = bound_socket(WE_SOCK_DGRAM);
  __wasi_fdstat_t st;
  CHECK(__wasi_fd_fdstat_get(a, &st) == 0 && st.fs_filetype == __WASI_FILETYPE_SOCKET_DGRAM);
  int32_t v = 0;
  EXPECT_ERR(we_sock_getsockopt(a, WE_SOL_SOCKET, WE_SO_TYPE, &v, 4), 0);
  CHECK(v == WE_SOCK_DGRAM);
  we_addr_storage to_st;
  we_address to = we_ipv4(&to_st, 127, 0, 0, 1);
  we_iovec msg = {(uint8_t *)"hello datagram", 14};
  uint32_t n = 0;
  EXPECT_ERR(we_sock_send_to(a, &msg, 1, &to, we_local_port(b), 0, &n), 0);
  CHECK(n == 14);
  char buf[32];
  we_iovec in = {(uint8_t *)buf, sizeof buf};
  we_addr_storage from_st;
  we_address from = {&from_st, sizeof from_st};
  uint32_t port = 0, ro = 9;
  EXPECT_ERR(we_sock_recv_from(b, &in, 1, &from, __WASI_RIFLAGS_RECV_PEEK, &port, &n, &ro), 0);
  CHECK(n == 14 && ro == 0 && port == we_local_port(a) && from_st.family == WE_AF_INET4 && from_st.addr[0] == 127);
  /* The same datagram into 5 bytes: truncated. */
  we_iovec small = {(uint8_t *)buf, 5};
  EXPECT_ERR(we_sock_recv_from(b, &small, 1, &from, 0, &port, &n, &ro), 0);
  CHECK(n == 5 && ro == __WASI_ROFLAGS_RECV_DATA_TRUNCATED && memcmp(buf, "hello", 5) == 0);
  /* Through preview1's sock_recv too, and an empty datagram. */
  EXPECT_ERR(we_sock_send_to(b, &msg, 1, &to, we_local_port(a), 0, &n), 0);
  uint16_t ro16 = 9;
  EXPECT_ERR(we_sock_recv(a, &in, 1, 0, &n, &ro16), 0);
  CHECK(n == 14 && ro16 == 0 && memcmp(buf, "hello datagram", 14) == 0);
  /* Not allowed to 127.0.0.2; bad address pointers. */
  we_address far = we_ipv4(&to_st, 127, 0, 0, 2);
  EXPECT_ERR(we_sock_send_to(a, &msg, 1, &far, 9, 0, &n), __WASI_ERRNO_ACCES);
  EXPECT_ERR(we_sock_recv_from(b, &in, 1, WILD, 0, &port, &n, &ro), __WASI_ERRNO_FAULT);
  EXPECT_ERR(we_sock_recv_from(b, &in, 1, &from, 0, WILD, &n, &ro), __WASI_ERRNO_FAULT);
  close(a);
  close(b);
}

/* IPv6 on ::1, when the host has it: a datagram round trip and a stream connection. */
static void ipv6_calls(void) {
  we_addr_storage st;
  memset(&st, 0, sizeof st);
  st.family = WE_AF_INET6;
  st.addr[15] = 1; /* ::1 */
  we_address lo = {&st, sizeof st};
  int32_t u, l, c, s;
  EXPECT_ERR(we_sock_open(WE_AF_INET6, WE_SOCK_DGRAM, &u), 0);
  int32_t e = we_sock_bind(u, &lo, 0);
  if (e == __WASI_ERRNO_ADDRNOTAVAIL) {  /* no IPv6 loopback here */
    close(u);
    return;
  }
  EXPECT_ERR(e, 0);
  we_iovec msg = {(uint8_t *)"six", 3};
  uint32_t n = 0, port = 0, ro = 0;
  EXPECT_ERR(we_sock_send_to(u, &msg, 1, &lo, we_local_port(u), 0, &n), 0);
  char buf[8];
  we_iovec in = {(uint8_t *)buf, sizeof buf};
  we_addr_storage from_st;
  we_address from = {&from_st, sizeof from_st};
  EXPECT_ERR(we_sock_recv_from(u, &in, 1, &from, 0, &port, &n, &ro), 0);
  CHECK(n == 3 && from_st.family == WE_AF_INET6 && from_st.addr[15] == 1 && port == we_local_port(u));
  EXPECT_ERR(we_sock_open(WE_AF_INET6, WE_SOCK_STREAM, &l), 0);
  EXPECT_ERR(we_sock_bind(l, &lo, 0), 0);
  EXPECT_ERR(we_sock_listen(l, 4), 0);
  EXPECT_ERR(we_sock_open(WE_AF_INET6, WE_SOCK_STREAM, &c), 0);
  EXPECT_ERR(we_sock_connect(c, &lo, we_local_port(l)), 0);
  EXPECT_ERR(we_sock_accept(l, 0, &s), 0);
  EXPECT_ERR(we_sock_getpeeraddr(s, &from, &port), 0);
  CHECK(from_st.family == WE_AF_INET6 && port == we_local_port(c));
  close(s);
  close(c);
  close(l);
  close(u);
}

/* The extension's v1 forms, which the Rust crate wasmedge_wasi_socket 0.5 still imports beside
 * v2's sock_recv_from: the same functions declared with other parameter counts. */
int32_t we1_sock_accept(int32_t fd, int32_t *fd_out) WE_IMPORT("sock_accept");
int32_t we1_sock_getlocaladdr(int32_t fd, we_address *addr, uint32_t *type, uint32_t *port)
    WE_IMPORT("sock_getlocaladdr");
int32_t we1_sock_recv_from(int32_t fd, const we_iovec *iov, uint32_t iov_len, we_address *addr, uint32_t riflags,
                           uint32_t *nread, uint32_t *roflags) WE_IMPORT("sock_recv_from");

static void v1_calls(int32_t lfd) {
  int32_t u = bound_socket(WE_SOCK_DGRAM);
  uint8_t ip[16];
  we_address a = {ip, sizeof ip};
  uint32_t type = 0, port = 0, n = 0, ro = 7;
  EXPECT_ERR(we1_sock_getlocaladdr(u, &a, &type, &port), 0);
  CHECK(type == 4 && port == we_local_port(u) && ip[0] == 127 && ip[3] == 1);
  we_addr_storage st;
  we_address self = we_ipv4(&st, 127, 0, 0, 1);
  we_iovec msg = {(uint8_t *)"v1", 2};
  EXPECT_ERR(we_sock_send_to(u, &msg, 1, &self, port, 0, &n), 0);
  char buf[8];
  we_iovec in = {(uint8_t *)buf, sizeof buf};
  memset(ip, 0, sizeof ip);
  EXPECT_ERR(we1_sock_recv_from(u, &in, 1, &a, 0, &n, &ro), 0);
  CHECK(n == 2 && ro == 0 && ip[0] == 127 && memcmp(buf, "v1", 2) == 0);
  close(u);
  int32_t c = stream_socket(), s = -1;
  EXPECT_ERR(we_sock_connect(c, &self, we_local_port(lfd)), 0);
  EXPECT_ERR(we1_sock_accept(lfd, &s), 0);
  CHECK(s > 2);
  EXPECT_ERR(we1_sock_accept(lfd, WILD), __WASI_ERRNO_FAULT);
  close(s);
  close(c);
}

static void resolver_calls(void) {
  struct node {
    we_addrinfo info;
    we_sockaddr sa;
    uint8_t data[26];
  } nodes[4];
  memset(nodes, 0, sizeof nodes);
  for (int i = 0; i < 4; ++i) {
    nodes[i].info.ai_addr = &nodes[i].sa;
    nodes[i].sa.sa_data = nodes[i].data;
    nodes[i].sa.sa_data_len = sizeof nodes[i].data;
    if (i < 3) nodes[i].info.ai_next = &nodes[i + 1].info;
  }
  we_addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = WE_AF_INET4;
  hints.ai_socktype = WE_SOCK_STREAM;
  hints.ai_flags = WE_AI_NUMERICSERV;
  we_addrinfo *head = &nodes[0].info;
  uint32_t count = 0;
  EXPECT_ERR(we_sock_getaddrinfo("localhost", 9, "8080", 4, &hints, &head, 4, &count), 0);
  CHECK(count >= 1 && count <= 4);
  CHECK(nodes[0].sa.sa_family == WE_AF_INET4 && nodes[0].info.ai_socktype == WE_SOCK_STREAM);
  CHECK(nodes[0].data[0] == 8080 >> 8 && nodes[0].data[1] == (8080 & 0xff) && nodes[0].data[2] == 127);
  /* A numeric host, NUL counted in the length as the Rust crate does. */
  hints.ai_flags = WE_AI_NUMERICHOST | WE_AI_NUMERICSERV;
  EXPECT_ERR(we_sock_getaddrinfo("127.0.0.9", 10, "1", 2, &hints, &head, 4, &count), 0);
  CHECK(count == 1 && nodes[0].data[5] == 9 && nodes[0].data[1] == 1);
  EXPECT_ERR(we_sock_getaddrinfo("not-an-ip", 9, "1", 1, &hints, &head, 4, &count), __WASI_ERRNO_NOENT);
  EXPECT_ERR(we_sock_getaddrinfo("", 0, "", 0, &hints, &head, 4, &count), __WASI_ERRNO_INVAL);
  EXPECT_ERR(we_sock_getaddrinfo("127.0.0.1", 9, "1", 1, &hints, WILD, 4, &count), __WASI_ERRNO_FAULT);
}

static void no_network(void) {
  int32_t fd;
  EXPECT_ERR(we_sock_open(WE_AF_INET4, WE_SOCK_STREAM, &fd), __WASI_ERRNO_NOTCAPABLE);
  EXPECT_ERR(we_sock_open(WE_AF_INET6, WE_SOCK_DGRAM, &fd), __WASI_ERRNO_NOTCAPABLE);
  we_addrinfo hints;
  memset(&hints, 0, sizeof hints);
  we_addrinfo *head = &hints;
  uint32_t count;
  EXPECT_ERR(we_sock_getaddrinfo("localhost", 9, "80", 2, &hints, &head, 1, &count), __WASI_ERRNO_NOTCAPABLE);
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "all")) {
    int32_t lfd = atoi(argv[2]);
    preview1_errors(lfd);
    stream_calls(lfd);
    extension_errors();
    udp_calls();
    ipv6_calls();
    v1_calls(lfd);
    resolver_calls();
  } else if (argc == 2 && !strcmp(argv[1], "none")) {
    no_network();
  } else {
    fprintf(stderr, "usage: sock_calls all LISTEN_FD | none\n");
    return 2;
  }
  if (failures) return 1;
  puts("ok");
  return 0;
}
