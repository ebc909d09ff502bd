// Sockets end to end: the real CLI, real guests (tests/guests/sock_*.c), real TCP and UDP on
// 127.0.0.1 with ports the kernel picks. Servers stop by themselves after a set number of
// connections.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "process.hpp"

namespace {

using wasio::test::run_process;
using wasio::test::running_process;
using wasio::test::cli;
using wasio::test::guest;
using wasio::test::wasio_run;


// The port in a server's first line, "port P".
int port_of(const std::string& line) {
  return line.rfind("port ", 0) == 0 ? std::stoi(line.substr(5)) : -1;
}

// A native client: connects to 127.0.0.1:port, sends `msg`, shuts down its write side and
// returns everything it reads back.
std::string echo_through(int port, const std::string& msg) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    for (size_t off = 0; off < msg.size();) {
      ssize_t n = ::send(fd, msg.data() + off, msg.size() - off, MSG_NOSIGNAL);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    char buf[65536];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return got;
}

// `clients` native clients at once, each with its own message of `size` bytes; expects each
// to get its message back.
void expect_echoes(int port, int clients, size_t size) {
  std::vector<std::string> got(clients);
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] { got[i] = echo_through(port, std::string(size, static_cast<char>('a' + i % 26))); });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < clients; ++i) {
    EXPECT_EQ(got[i], std::string(size, static_cast<char>('a' + i % 26))) << "client " << i;
  }
}

const std::vector<std::string> loopback = {"--allow-bind", "127.0.0.1:*", "--allow-connect", "127.0.0.1:*",
                                           "--allow-bind", "[::1]:*", "--allow-connect", "[::1]:*"};

TEST(sockets, every_call_and_its_errors) {
  auto args = loopback;
  args.insert(args.end(), {"--tcplisten", "127.0.0.1:0", guest("sock_calls"), "all", "3"});
  auto r = run_process(wasio_run(args));
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "ok\n");
}

TEST(sockets, no_network_unless_allowed) {
  auto r = run_process(wasio_run({guest("sock_calls"), "none"}));
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "ok\n");
}

// One guest serves many connections at once through poll_oneoff on a --tcplisten socket.
TEST(sockets, one_guest_serves_concurrent_connections_on_a_preopened_listener) {
  constexpr int clients = 200;
  running_process server(wasio_run({"--tcplisten", "127.0.0.1:0", guest("sock_echo"), "server", "3",
                                    std::to_string(clients)}));
  int port = port_of(server.read_line());
  ASSERT_GT(port, 0);
  expect_echoes(port, clients, 100'000);  // more than a socket buffer: sends suspend too
  auto r = server.finish();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "served " + std::to_string(clients) + "\n");
}

// A guest per connection: many instances accept on one shared listener, each serving one client.
TEST(sockets, a_guest_per_connection_on_a_shared_listener) {
  constexpr int guests = 64;
  running_process server(wasio_run({"--tcplisten", "127.0.0.1:0", "--instances", std::to_string(guests),
                                    guest("sock_echo"), "one", "3"}));
  int port = port_of(server.read_line());  // every instance prints the same port
  ASSERT_GT(port, 0);
  expect_echoes(port, guests, 10'000);
  auto r = server.finish();
  EXPECT_EQ(r.status, 0) << r.err;
}

// A guest client (sock_connect, suspended until the connection is up) against a guest server
// that opened its own socket (sock_open, sock_bind, sock_listen).
TEST(sockets, guest_client_and_guest_server) {
  auto args = loopback;
  args.insert(args.end(), {guest("sock_echo"), "server", "open", "3"});
  running_process server(wasio_run(args));
  int port = port_of(server.read_line());
  ASSERT_GT(port, 0);
  for (int i = 0; i < 3; ++i) {
    auto c = run_process(wasio_run({"--allow-connect", "127.0.0.1:" + std::to_string(port), guest("sock_echo"),
                                    "client", std::to_string(port), "message " + std::to_string(i)}));
    EXPECT_EQ(c.status, 0) << c.err;
    EXPECT_EQ(c.out, "message " + std::to_string(i));
  }
  auto r = server.finish();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "served 3\n");
}

TEST(sockets, allow_lists_hold) {
  // Binding needs --allow-bind: with connect rights only, the server cannot even listen.
  auto r = run_process(wasio_run({"--allow-connect", "127.0.0.1:*", guest("sock_echo"), "server", "open", "1"}));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "FAIL listener: 2\n");  // acces
  // Connecting to a port outside the allowed one.
  r = run_process(wasio_run({"--allow-connect", "127.0.0.1:1-2", guest("sock_echo"), "client", "3", "x"}));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "FAIL sock_connect: 2\n");
  // No network at all: the socket cannot be opened.
  r = run_process(wasio_run({guest("sock_echo"), "client", "3", "x"}));
  EXPECT_EQ(r.out, "FAIL sock_open: 76\n");  // notcapable
}

// A guest waiting in accept (or in poll over sockets) is stopped where it waits.
TEST(sockets, a_guest_waiting_on_a_socket_can_be_stopped) {
  for (const char* mode : {"one", "server"}) {
    std::vector<std::string> args{"--wall-time", "0.3", "--tcplisten", "127.0.0.1:0", guest("sock_echo"), mode, "3"};
    if (std::string(mode) == "server") args.push_back("1");
    auto r = run_process(wasio_run(args));
    EXPECT_EQ(r.status, 137) << mode << ": " << r.err;
    EXPECT_NE(r.err.find("stopped"), std::string::npos) << r.err;
  }
}

TEST(sockets, bad_flags_are_one_line_errors) {
  for (auto flags : std::vector<std::vector<std::string>>{
           {"--allow-bind", "localhost:80"}, {"--allow-connect", "1.2.3.4/40:*"}, {"--allow-connect", "::1:80"},
           {"--allow-bind", "127.0.0.1:80-70"}, {"--tcplisten", "127.0.0.1"}, {"--tcplisten", "nowhere:1"}}) {
    flags.push_back(guest("hello"));
    auto r = run_process(wasio_run(flags));
    EXPECT_EQ(r.status, 2) << flags[0] << " " << flags[1];
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(flags[0]), std::string::npos) << r.err;
  }
}

// An HTTP/1.1 request on a connected socket; the response's body (by its Content-Length), or
// empty when the connection ends first.
std::string http_get(int fd, const std::string& path, bool last) {
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: test\r\n" + (last ? "Connection: close\r\n" : "") + "\r\n";
  if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return {};
  std::string got;
  char buf[4096];
  for (;;) {
    if (auto end = got.find("\r\n\r\n"); end != std::string::npos) {
      auto cl = got.find("Content-Length: ");
      if (cl != std::string::npos && cl < end) {
        size_t len = std::stoul(got.substr(cl + 16));
        if (got.size() >= end + 4 + len) return got.substr(end + 4, len);
      }
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return {};
    got.append(buf, static_cast<size_t>(n));
  }
}

// Go's standard way to serve HTTP from a wasip1 program: net.FileListener on the --tcplisten
// socket, net/http on it (tests/guests/go/http_server.go). Go runs all goroutines on one
// thread, so an accept that blocked in the host would stop the program after its first
// connection. Three connections are open at once, each for two requests.
TEST(sockets, a_go_http_server_answers_every_connection) {
  std::string wasm = guest("go_http_server");
  if (::access(wasm.c_str(), R_OK) != 0) GTEST_SKIP() << "no Go 1.21 or later here to build " << wasm;
  constexpr int conns = 3;
  running_process server(wasio_run({"-v", "--tcplisten", "127.0.0.1:0", wasm, std::to_string(2 * conns)}));
  int port = -1;
  for (std::string line; port < 0 && !(line = server.read_err_line()).empty();) {
    if (auto at = line.find("listening on 127.0.0.1:"); at != std::string::npos) port = std::stoi(line.substr(at + 23));
  }
  ASSERT_GT(port, 0);
  int fds[conns];
  for (int& fd : fds) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval patience{30, 0};  // a server that stopped answering fails the test, not hangs it
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  }
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < conns; ++i) {
      std::string path = "/c" + std::to_string(i) + "r" + std::to_string(round);
      EXPECT_EQ(http_get(fds[i], path, round == 1), "hello from " + path + "\n");
    }
  }
  for (int fd : fds) ::close(fd);
  auto r = server.finish();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "served " + std::to_string(2 * conns) + "\n");
}

}  // namespace
