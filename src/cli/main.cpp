// The wasio command line:
//   wasio run [--dir HOST[::GUEST]]... [--env K=V]... [--instances N] module.wasm [args...]
//   wasio run --invoke NAME module.wasm [numbers...]   (a reactor's export: prints its results)
// Exit status: the guest's exit code; 134 after a trap (one line on stderr names it); 1 when the
// module or the command line is wrong (one line on stderr says why).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_future.hpp>
#include <chrono>
#include <cstdio>
#include <limits>
#include <cstdlib>
#include <fmt/core.h>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <string>
#include <tuple>
#include <vector>

#include "wasio/wasio.hpp"

namespace {

// Where a --tcplisten socket listens, as ADDR:PORT.
std::string listening_on(int fd) {
  asio::ip::tcp::endpoint ep;
  socklen_t n = static_cast<socklen_t>(ep.capacity());
  if (::getsockname(fd, ep.data(), &n) != 0) return "?";
  ep.resize(n);
  auto a = ep.address();
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(ep.port());
}

// Each guest holds a few fds (its preopens; wasio's stdio streams are shared per worker);
// thousands of instances need more than the usual soft limit of 1024.
void raise_fd_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// "HOST::GUEST" maps HOST to GUEST; a plain "DIR" is seen by the guest under the same name
// (wasmtime's syntax).
wasio::preopen parse_dir(const std::string& spec, bool read_only) {
  auto sep = spec.find("::");
  if (sep == std::string::npos) return {spec, spec, read_only};
  return {spec.substr(0, sep), spec.substr(sep + 2), read_only};
}

// A CLI11 check with a plain message ("expected ..."), where CLI::Range prints its bounds in
// full floating point.
CLI::Validator number_at_least(double min, std::string what) {
  return CLI::Validator(
      [min, what](std::string& v) -> std::string {
        char* end = nullptr;
        double d = std::strtod(v.c_str(), &end);
        if (end == v.c_str() || *end != '\0' || !(d >= min) || d > 1e9) return "expected " + what + ", not '" + v + "'";
        return {};
      },
      "");
}

// Whether `arg` names an option of `run` that takes a value (the next argument).
bool takes_value(const CLI::App& run, std::string_view arg) {
  for (const CLI::Option* o : run.get_options()) {
    if (o->get_items_expected_min() == 0) continue;
    for (const auto& name : o->get_lnames()) {
      if (arg == "--" + name) return true;
    }
  }
  return false;
}

// The index just past the module path of `wasio run [options] module [guest args]`, so that
// options after the module go to the guest. Options before it that take a value skip it.
// Where --trace writes: one line per call, whole lines from any number of worker threads.
struct trace_sink {
  explicit trace_sink(FILE* f) : file(f) {}
  FILE* file;
  std::mutex mu;
  wasio::wasi_trace hook(std::string prefix) {
    return [this, prefix = std::move(prefix)](const wasio::wasi_call& c) {
      std::string line = prefix + c.line() + "\n";
      std::lock_guard lock(mu);
      std::fwrite(line.data(), 1, line.size(), file);
    };
  }
};

int guest_args_start(int argc, char** argv, const CLI::App& run) {
  int i = 1;
  while (i < argc && argv[i][0] == '-') ++i;  // options of `wasio` itself (--help, --version)
  if (i >= argc || std::string_view(argv[i]) != "run") return argc;
  for (++i; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--") return std::min(i + 2, argc);
    if (a.empty() || a[0] != '-') return i + 1;  // the module
    if (a.find('=') == std::string_view::npos && takes_value(run, a)) ++i;
  }
  return argc;
}

// `text` as a wasm value of type `t`, or an error message.
std::optional<wasio::value> parse_value(wasio::val_type t, const std::string& text) {
  errno = 0;
  char* end = nullptr;
  switch (t) {
    case wasio::val_type::i32:
    case wasio::val_type::i64: {
      bool negative = !text.empty() && text[0] == '-';
      long long s = negative ? std::strtoll(text.c_str(), &end, 0) : 0;
      unsigned long long u = negative ? 0 : std::strtoull(text.c_str(), &end, 0);
      if (text.empty() || *end != '\0' || errno == ERANGE) return std::nullopt;
      if (t == wasio::val_type::i32) {
        if (negative ? s < INT32_MIN : u > UINT32_MAX) return std::nullopt;
        return negative ? wasio::value(static_cast<int32_t>(s)) : wasio::value(static_cast<uint32_t>(u));
      }
      return negative ? wasio::value(static_cast<int64_t>(s)) : wasio::value(static_cast<uint64_t>(u));
    }
    case wasio::val_type::f32:
    case wasio::val_type::f64: {
      double d = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0') return std::nullopt;
      return t == wasio::val_type::f32 ? wasio::value(static_cast<float>(d)) : wasio::value(d);
    }
  }
  return std::nullopt;
}

std::string types_text(const std::vector<wasio::val_type>& v) {
  std::string t;
  for (auto x : v) t += (t.empty() ? "" : ", ") + std::string(wasio::name_of(x));
  return "(" + t + ")";
}

void print_value(const wasio::value& v) {
  switch (v.type) {
    case wasio::val_type::i32: fmt::print("{}\n", v.as<int32_t>()); break;
    case wasio::val_type::i64: fmt::print("{}\n", v.as<int64_t>()); break;
    case wasio::val_type::f32: fmt::print("{}\n", v.as<float>()); break;
    case wasio::val_type::f64: fmt::print("{}\n", v.as<double>()); break;
  }
}

// One line on stderr for a guest that did not end well; the status to exit with.
int report(const std::string& module, const wasio::exit_status& s, const std::string& who = {}) {
  if (s.how == wasio::exit_status::kind::trapped) {
    std::fprintf(stderr, "wasio: %s%s: trap: %s\n", module.c_str(), who.c_str(), s.message.c_str());
  } else if (s.how == wasio::exit_status::kind::failed) {
    std::fprintf(stderr, "wasio: %s%s\n", s.message.c_str(), who.c_str());
  } else if (s.how == wasio::exit_status::kind::stopped) {
    std::fprintf(stderr, "wasio: %s%s: stopped: %s\n", module.c_str(), who.c_str(), s.message.c_str());
  }
  return s.process_status();
}

// --invoke: instantiates the reactor, calls `name` with `args` (numbers of its parameters'
// types, as wasmtime's --invoke takes them) and prints each result on a line.
int invoke(wasio::runtime& rt, const wasio::module& mod, const std::string& path, const std::string& name,
           const std::vector<std::string>& args, wasio::config cfg) {
  auto fns = mod.functions();
  auto f = std::find_if(fns.begin(), fns.end(), [&](const wasio::export_info& e) { return e.name == name; });
  if (f == fns.end()) {
    std::fprintf(stderr, "wasio: %s: --invoke %s: no such function export (that takes and returns numbers)\n",
                 path.c_str(), name.c_str());
    return 1;
  }
  if (args.size() != f->params.size()) {
    std::fprintf(stderr, "wasio: --invoke %s takes %zu arguments %s, not %zu\n", name.c_str(), f->params.size(),
                 types_text(f->params).c_str(), args.size());
    return 2;
  }
  std::vector<wasio::value> values;
  for (size_t i = 0; i < args.size(); ++i) {
    auto v = parse_value(f->params[i], args[i]);
    if (!v) {
      std::fprintf(stderr, "wasio: --invoke %s: argument %zu: expected an %s, not '%s'\n", name.c_str(), i + 1,
                   wasio::name_of(f->params[i]), args[i].c_str());
      return 2;
    }
    values.push_back(*v);
  }
  cfg.args = {path};
  auto inst = rt.async_instantiate(mod, std::move(cfg), asio::use_future).get();
  if (!inst) return report(path, inst.error());
  auto r = inst.value().async_call(name, std::move(values), asio::use_future).get();
  if (!r) return report(path, r.error());
  for (const auto& v : r.value()) print_value(v);
  return 0;
}

}  // namespace

// Which of fds 0, 1 and 2 the shell left closed. Each is held by /dev/null from here on, before
// anything else opens an fd: else the next fd wasio opens (its event loop's eventfd, a cached
// module) would take that number and become the guest's stdin or stdout. The guest still finds
// the fd closed (badf), as the same program run natively would.
std::array<bool, 3> hold_closed_stdio() {
  std::array<bool, 3> closed{};
  for (int fd = 0; fd < 3; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    closed[fd] = true;
    int held = ::open("/dev/null", O_RDWR);  // the lowest free number: this one
    if (held >= 0 && held != fd) ::close(held);
  }
  return closed;
}

int main(int argc, char** argv) {
  const std::array<bool, 3> closed_stdio = hold_closed_stdio();
  CLI::App app{"wasio: run WebAssembly WASI programs on V8, suspending them on an event loop"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "wasio 0.1 (" + wasio::engine_version() + ")");

  auto* run = app.add_subcommand("run", "run a WASI command module");
  std::vector<std::string> dirs, ro_dirs, overlay_dirs, mem_dirs, envs, listens, allow_bind, allow_connect;
  unsigned instances = 1, workers = 0, max_fds = 0;
  uint64_t max_memory = 0;
  double cpu_seconds = 0, wall_seconds = 0, slice_ms = 10;
  uint64_t fuel = 0;
  bool count_ticks = false;
  std::string module_path, mode = "auto", invoke_name;
  std::string trace_to;  // "-": stderr
  bool verbose = false;
  run->add_option("--dir", dirs, "give the guest a host directory: HOST[::GUEST]")->type_name("DIR")->allow_extra_args(false);
  run->add_option("--dir-ro", ro_dirs, "the same, read-only for the guest")->type_name("DIR")->allow_extra_args(false);
  run->add_option("--dir-overlay", overlay_dirs,
                  "give the guest a host directory to change in memory only: HOST[::GUEST] (changes are dropped at exit)")
      ->type_name("DIR")
      ->allow_extra_args(false);
  run->add_option("--dir-mem", mem_dirs, "give the guest an empty in-memory directory at GUEST")
      ->type_name("GUEST")
      ->allow_extra_args(false);
  run->add_option("--env", envs, "set an environment variable for the guest: KEY=VALUE")->type_name("K=V")->allow_extra_args(false);
  run->add_option("--tcplisten", listens, "give the guest a TCP socket listening on ADDR:PORT (an fd after the --dir ones)")
      ->type_name("ADDR:PORT")->allow_extra_args(false);
  run->add_option("--allow-bind", allow_bind, "let the guest bind and listen on ADDR:PORTS (e.g. 127.0.0.1:*, [::]:8000-8099)")
      ->type_name("ADDR:PORTS")->allow_extra_args(false);
  run->add_option("--allow-connect", allow_connect, "let the guest connect and send to ADDR:PORTS (e.g. 10.0.0.0/8:443, *:*)")
      ->type_name("ADDR:PORTS")->allow_extra_args(false);
  run->add_option("--instances", instances, "run N instances concurrently, sharing stdio")
      ->check(CLI::Range(1u, 10'000'000u));
  run->add_option("--workers", workers, "worker threads (default: one per core)")->check(CLI::Range(0u, 1024u));
  run->add_option("--max-memory", max_memory, "limit each guest's linear memory (e.g. 64MiB)")
      ->transform(CLI::AsSizeValue(false))->type_name("SIZE");
  run->add_option("--max-fds", max_fds, "limit the fds each guest holds, stdio and preopens included")
      ->check(CLI::Range(3u, 1u << 30));
  run->add_option("--time-slice", slice_ms, "a guest yields its worker after computing this long (ms; 0: never)")
      ->check(number_at_least(0, "a number of milliseconds, 0 or more"))->type_name("MS");
  run->add_option("--cpu-time", cpu_seconds, "stop a guest after it computed this long (seconds)")
      ->check(number_at_least(0.001, "a number of seconds, at least 0.001"))->type_name("SECONDS");
  run->add_option("--fuel", fuel, "stop a guest after its wasm counted this many ticks (a tick per function entry, return and loop iteration; implies --count-ticks)")
      ->check(CLI::Range(uint64_t{1}, std::numeric_limits<uint64_t>::max() - 1))->type_name("TICKS");
  run->add_flag("--count-ticks", count_ticks, "make the module count ticks (asyncify or fiber mode), for --fuel (costs compute-bound code 1.2-3.4x)");
  run->add_option("--wall-time", wall_seconds, "stop a guest this long after it started (seconds)")
      ->check(number_at_least(0.001, "a number of seconds, at least 0.001"))->type_name("SECONDS");
  run->add_option("--mode", mode, "how guests are suspended: auto (default), asyncify (rewritten, dense), fiber (own stack and isolate; big modules start at once) or jspi (V8's own, with V8 11)")
      ->check(CLI::IsMember({"auto", "asyncify", "fiber", "jspi"}))->type_name("MODE");
  run->add_option("--invoke", invoke_name, "call this export of a reactor module with the numbers after the module, and print its results")
      ->type_name("NAME");
  run->add_flag("-v,--verbose", verbose, "say which suspension mode the module runs in, and why, and where each --tcplisten socket listens");
  // A flag, so that `--trace module.wasm` never takes the module for its file: a file is given as --trace=FILE.
  run->add_flag("--trace{-}", trace_to, "write each WASI call the guest makes to stderr, or with --trace=FILE to FILE")
      ->type_name("FILE");
  run->add_option("module", module_path, "the .wasm file; the guest's arguments follow it")->required();
  // Everything after the module path belongs to the guest, flags included: CLI11 sees only what
  // comes before it.
  int host_argc = guest_args_start(argc, argv, *run);
  if (argc > 1 && argv[1][0] != '-' && std::string_view(argv[1]) != "run") {
    std::fprintf(stderr, "wasio: unknown command '%s' (see wasio --help)\n", argv[1]);
    return 2;
  }

  try {
    app.parse(host_argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "wasio: %s (see %s)\n", e.what(), run->parsed() ? "wasio run --help" : "wasio --help");
    return 2;
  }
  std::vector<std::string> rest{module_path};
  for (int i = host_argc; i < argc; ++i) rest.emplace_back(argv[i]);

  wasio::config cfg;
  cfg.args = rest;  // argv[0] is the module path as given
  cfg.stdio = wasio::stdio_fds::inherit();  // a command's stdio is its shell's (the library's default is none)
  if (closed_stdio[0]) cfg.stdio.in = wasio::stdio_fd(-1);
  if (closed_stdio[1]) cfg.stdio.out = wasio::stdio_fd(-1);
  if (closed_stdio[2]) cfg.stdio.err = wasio::stdio_fd(-1);
  for (auto& e : envs) {
    if (e.find('=') == std::string::npos) {
      std::fprintf(stderr, "wasio: --env %s: expected KEY=VALUE\n", e.c_str());
      return 2;
    }
    cfg.env.push_back(e);
  }
  for (auto& d : dirs) cfg.preopens.push_back(parse_dir(d, false));
  for (auto& d : ro_dirs) cfg.preopens.push_back(parse_dir(d, true));
  for (auto& d : overlay_dirs) {
    auto p = parse_dir(d, false);
    cfg.preopens.push_back(wasio::preopen::overlay(p.host_path, p.guest_path));
  }
  for (auto& d : mem_dirs) cfg.preopens.push_back(wasio::preopen::memory(d));
  if (max_memory) {
    constexpr uint64_t page = 64 * 1024;
    cfg.limits.memory_pages = static_cast<uint32_t>(std::min<uint64_t>(max_memory / page, 65536));
    if (cfg.limits.memory_pages == 0) {
      std::fprintf(stderr, "wasio: --max-memory: less than one 64 KiB page\n");
      return 2;
    }
  }
  cfg.limits.open_fds = max_fds;
  for (auto [flag, texts, rules] : {std::tuple{"--allow-bind", &allow_bind, &cfg.net.allow_bind},
                                    std::tuple{"--allow-connect", &allow_connect, &cfg.net.allow_connect}}) {
    for (auto& t : *texts) {
      auto r = wasio::parse_socket_rule(t);
      if (!r) {
        std::fprintf(stderr, "wasio: %s %s\n", flag, r.error().c_str());
        return 2;
      }
      rules->push_back(r.value());
    }
  }
  for (auto& l : listens) {
    auto fd = wasio::tcp_listen(l);
    if (!fd) {
      std::fprintf(stderr, "wasio: --tcplisten %s\n", fd.error().c_str());
      return 2;
    }
    cfg.net.listeners.push_back(fd.value());  // the process's until it ends
    // Port 0 leaves the port to the kernel: -v says which, for a client to connect to.
    if (verbose) std::fprintf(stderr, "wasio: --tcplisten %s: listening on %s\n", l.c_str(), listening_on(fd.value()).c_str());
  }
  auto seconds = [](double s) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(s));
  };
  cfg.limits.cpu_time = seconds(cpu_seconds);
  cfg.limits.wall_time = seconds(wall_seconds);
  cfg.limits.fuel = fuel;

  std::shared_ptr<trace_sink> trace;
  if (!trace_to.empty()) {
    FILE* f = trace_to == "-" ? stderr : std::fopen(trace_to.c_str(), "w");
    if (!f) {
      std::fprintf(stderr, "wasio: --trace=%s: %s\n", trace_to.c_str(), std::strerror(errno));
      return 2;
    }
    trace = std::make_shared<trace_sink>(f);
    cfg.trace = trace->hook("");
  }

  raise_fd_limit();
  wasio::runtime_options opts;
  opts.workers = workers;
  opts.mode = mode == "fiber"      ? wasio::suspension_mode::fiber
              : mode == "asyncify" ? wasio::suspension_mode::asyncify
              : mode == "jspi"     ? wasio::suspension_mode::jspi
                                   : wasio::suspension_mode::automatic;
  opts.time_slice = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double, std::milli>(slice_ms));
  opts.count_ticks = fuel > 0 || count_ticks;
  wasio::runtime rt(opts);
  auto mod = rt.load_file(rest[0]);
  if (!mod) {
    std::fprintf(stderr, "wasio: %s\n", mod.error().c_str());
    return 1;
  }
  if (verbose) std::fprintf(stderr, "wasio: %s: %s\n", rest[0].c_str(), mod.value().mode_reason().c_str());
  if (!invoke_name.empty()) {
    int status = invoke(rt, mod.value(), rest[0], invoke_name, {rest.begin() + 1, rest.end()}, std::move(cfg));
    std::fflush(nullptr);
    std::_Exit(status);
  }
  // The ends are gathered on the workers and waited for once: waiting for each guest's future
  // in turn woke this thread at every end it had caught up with (a context switch per guest).
  std::vector<wasio::exit_status> ends(instances);
  std::latch all_ended(instances);
  for (unsigned i = 0; i < instances; ++i) {
    auto c = cfg.clone();
    if (trace && instances > 1) c.trace = trace->hook(fmt::format("[{}] ", i));
    rt.async_run(mod.value(), std::move(c), [&ends, &all_ended, i](wasio::exit_status s) {
      ends[i] = std::move(s);
      all_ended.count_down();
    });
  }
  all_ended.wait();

  int status = 0;
  for (unsigned i = 0; i < instances; ++i) {
    int st = report(rest[0], ends[i], instances > 1 ? fmt::format(" (instance {})", i) : "");
    if (status == 0) status = st;
  }
  // Every guest has ended and wasio buffers no output (guests write straight to the fds), so
  // nothing is lost by skipping the teardown of the workers' isolates: with many guests, V8
  // unmapping their memories one by one takes longer than the guests ran.
  std::fflush(nullptr);
  std::_Exit(status);
}
