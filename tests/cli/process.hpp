// Runs a real process with real pipes for stdin, stdout and stderr.
#pragma once
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <thread>
#include <vector>

extern char** environ;

namespace wasio::test {

struct process_result {
  int status = -1;  // exit status, or 128 + signal
  std::string out, err;
};

// Runs argv with `input` on its stdin (then EOF). Output is collected until the process exits.
inline process_result run_process(const std::vector<std::string>& argv, const std::string& input = {}) {
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC)) return {};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  process_result r;
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    return r;
  }
  // SIGPIPE would kill the test if the child stops reading early.
  ::signal(SIGPIPE, SIG_IGN);
  std::thread writer([fd = in[1], input] {
    size_t off = 0;
    while (off < input.size()) {
      ssize_t n = ::write(fd, input.data() + off, input.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(fd);
  });
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_count = 2;
  char buf[65536];
  while (open_count > 0) {
    if (::poll(fds, 2, -1) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !fds[i].revents) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  writer.join();
  int st = 0;
  ::waitpid(pid, &st, 0);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

// The CLI and guests under test (the suites define WASIO_CLI and WASIO_GUESTS).
inline const std::string cli = WASIO_CLI;
inline std::string guest(const std::string& name) { return std::string(WASIO_GUESTS) + "/" + name + ".wasm"; }
// argv of `wasio run REST...`.
inline std::vector<std::string> wasio_run(std::vector<std::string> rest) {
  std::vector<std::string> argv{cli, "run"};
  argv.insert(argv.end(), rest.begin(), rest.end());
  return argv;
}

// A process that runs while the test talks to it (a server): its stdout is read line by line.
class running_process {
 public:
  explicit running_process(const std::vector<std::string>& argv) {
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC)) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }
  ~running_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      finish();
    }
  }
  running_process(const running_process&) = delete;
  running_process& operator=(const running_process&) = delete;

  // The next line of stdout without its newline; empty at EOF.
  std::string read_line() { return line_of(out_, pending_); }
  // The same from stderr.
  std::string read_err_line() { return line_of(err_, pending_err_); }

  // Waits for the process to end: its status, the rest of stdout, and stderr.
  process_result finish() {
    process_result r;
    r.out = std::exchange(pending_, {});
    r.err = std::exchange(pending_err_, {});
    char buf[4096];
    for (int fd : {out_, err_}) {
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) (fd == out_ ? r.out : r.err).append(buf, static_cast<size_t>(n));
      ::close(fd);
    }
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return r;
  }

 private:
  static std::string line_of(int fd, std::string& pending) {
    for (;;) {
      if (auto nl = pending.find('\n'); nl != std::string::npos) {
        std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        return line;
      }
      char c[256];
      ssize_t n = ::read(fd, c, sizeof c);
      if (n <= 0) return std::exchange(pending, {});
      pending.append(c, static_cast<size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  std::string pending_, pending_err_;
};

}  // namespace wasio::test
