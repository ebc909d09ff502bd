/* wasmedge_socket.h -- the WasmEdge socket extension, v2 layout, as stealthrocket/wasi-go serves
 * it (imports/wasi_snapshot_preview1/wasmedge.go), for C guests built with wasi-libc. The
 * preview1 sock_* functions (accept, recv, send, shutdown) are wasi-libc's own.
 *
 * Every function returns the WASI errno (0 on success). Ports are in host order. An address is
 * {buf, buf_len} with buf -> 128 bytes: u16 family (1 inet4, 2 inet6), then the address bytes in
 * network order. */
#ifndef WASMEDGE_SOCKET_H
#define WASMEDGE_SOCKET_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WE_IMPORT(n) __attribute__((import_module("wasi_snapshot_preview1"), import_name(n)))

enum { WE_AF_UNSPEC = 0, WE_AF_INET4 = 1, WE_AF_INET6 = 2, WE_AF_UNIX = 3 };
enum { WE_SOCK_ANY = 0, WE_SOCK_DGRAM = 1, WE_SOCK_STREAM = 2 };
enum { WE_SOL_SOCKET = 0, WE_SOL_TCP = 6 };
enum { WE_SO_REUSEADDR = 0, WE_SO_TYPE = 1, WE_SO_ERROR = 2, WE_SO_BROADCAST = 4, WE_SO_SNDBUF = 5,
       WE_SO_RCVBUF = 6, WE_SO_KEEPALIVE = 7, WE_SO_LINGER = 9, WE_SO_RCVTIMEO = 11, WE_SO_ACCEPTCONN = 13,
       WE_TCP_NODELAY = 15 };
enum { WE_AI_PASSIVE = 1, WE_AI_NUMERICHOST = 4, WE_AI_NUMERICSERV = 8 };

typedef struct {
  uint16_t family;
  uint8_t addr[126];
} we_addr_storage;

typedef struct {
  void *buf;
  uint32_t buf_len;
} we_address;

typedef struct {
  uint8_t *buf;
  uint32_t buf_len;
} we_iovec;

typedef struct {
  uint32_t sa_family; /* the host writes the low byte */
  uint32_t sa_data_len;
  uint8_t *sa_data;   /* port big-endian @0, address @2 */
} we_sockaddr;

typedef struct we_addrinfo {
  uint16_t ai_flags;
  uint8_t ai_family;
  uint8_t ai_socktype;
  uint32_t ai_protocol;
  uint32_t ai_addrlen;
  we_sockaddr *ai_addr;
  char *ai_canonname;
  uint32_t ai_canonname_len;
  struct we_addrinfo *ai_next;
} we_addrinfo;

_Static_assert(sizeof(we_addr_storage) == 128, "address storage");
_Static_assert(sizeof(we_address) == 8, "address");
_Static_assert(sizeof(we_sockaddr) == 12, "sockaddr");
_Static_assert(sizeof(we_addrinfo) == 28, "addrinfo");

int32_t we_sock_open(int32_t af, int32_t type, int32_t *fd) WE_IMPORT("sock_open");
int32_t we_sock_bind(int32_t fd, we_address *addr, uint32_t port) WE_IMPORT("sock_bind");
int32_t we_sock_connect(int32_t fd, we_address *addr, uint32_t port) WE_IMPORT("sock_connect");
int32_t we_sock_listen(int32_t fd, int32_t backlog) WE_IMPORT("sock_listen");
int32_t we_sock_accept(int32_t fd, uint32_t fdflags, int32_t *new_fd) WE_IMPORT("sock_accept");
int32_t we_sock_recv(int32_t fd, const we_iovec *iov, uint32_t iov_len, uint32_t riflags, uint32_t *nread,
                     uint16_t *roflags) WE_IMPORT("sock_recv");
int32_t we_sock_recv_from(int32_t fd, const we_iovec *iov, uint32_t iov_len, we_address *addr, uint32_t riflags,
                          uint32_t *port, uint32_t *nread, uint32_t *roflags) WE_IMPORT("sock_recv_from");
int32_t we_sock_send(int32_t fd, const we_iovec *iov, uint32_t iov_len, uint32_t siflags, uint32_t *nwritten)
    WE_IMPORT("sock_send");
int32_t we_sock_send_to(int32_t fd, const we_iovec *iov, uint32_t iov_len, we_address *addr, uint32_t port,
                        uint32_t siflags, uint32_t *nwritten) WE_IMPORT("sock_send_to");
int32_t we_sock_shutdown(int32_t fd, uint32_t how) WE_IMPORT("sock_shutdown");
int32_t we_sock_getsockopt(int32_t fd, int32_t level, int32_t name, int32_t *value, uint32_t len)
    WE_IMPORT("sock_getsockopt");
int32_t we_sock_setsockopt(int32_t fd, int32_t level, int32_t name, const void *value, uint32_t len)
    WE_IMPORT("sock_setsockopt");
int32_t we_sock_getlocaladdr(int32_t fd, we_address *addr, uint32_t *port) WE_IMPORT("sock_getlocaladdr");
int32_t we_sock_getpeeraddr(int32_t fd, we_address *addr, uint32_t *port) WE_IMPORT("sock_getpeeraddr");
int32_t we_sock_getaddrinfo(const char *node, uint32_t node_len, const char *service, uint32_t service_len,
                            const we_addrinfo *hints, we_addrinfo **res, uint32_t max, uint32_t *count)
    WE_IMPORT("sock_getaddrinfo");

/* An IPv4 address a.b.c.d in `st`, as an argument. */
static inline we_address we_ipv4(we_addr_storage *st, uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  memset(st, 0, sizeof *st);
  st->family = WE_AF_INET4;
  st->addr[0] = a, st->addr[1] = b, st->addr[2] = c, st->addr[3] = d;
  we_address r = {st, sizeof *st};
  return r;
}

/* The local port of socket `fd` (0 on failure). */
static inline uint32_t we_local_port(int32_t fd) {
  we_addr_storage st;
  we_address a = {&st, sizeof st};
  uint32_t port = 0;
  return we_sock_getlocaladdr(fd, &a, &port) == 0 ? port : 0;
}

#endif
