// End to end: the real `wasio` CLI runs real guests (tests/guests/*.c, built with clang-14 for
// wasm32-wasi) on a real V8, with real pipes, directories and clocks.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "process.hpp"

namespace {

using wasio::test::run_process;
using wasio::test::cli;
using wasio::test::guest;
using wasio::test::wasio_run;


size_t count_lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST(cli, hello_world) {
  auto r = run_process(wasio_run({guest("hello")}));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "hello from wasio\n");
  EXPECT_EQ(r.err, "");
}

// --invoke calls a reactor's export with numbers from the command line (as wasmtime's does):
// its _initialize runs first, the results come one per line, the export may use WASI, a trap
// is one line and 134, proc_exit is the exit status, and a wrong call is one line before any
// guest code runs.
TEST(cli, invoke_calls_a_reactors_export) {
  struct want {
    std::vector<std::string> args;
    int status;
    std::string out, err;
  };
  for (const want& w : std::vector<want>{
           {{"add", "2", "3"}, 0, "5\n", ""},  // 5 only if _initialize ran the constructor
           {{"mul64", "-4", "5000000000"}, 0, "-20000000000\n", ""},
           {{"fdiv", "1", "4"}, 0, "0.25\n", ""},
           {{"greet", "2"}, 0, "hello 0\nhello 1\n", ""},
           {{"boom"}, 134, "", "trap: RuntimeError: unreachable"},
           {{"quit", "3"}, 3, "", ""},
           {{"add", "1"}, 2, "", "--invoke add takes 2 arguments (i32, i32), not 1"},
           {{"add", "x", "2"}, 2, "", "argument 1: expected an i32, not 'x'"},
           {{"add", "4294967296", "2"}, 2, "", "expected an i32"},
           {{"nope"}, 1, "", "--invoke nope: no such function export"},
       }) {
    std::vector<std::string> rest = {"--invoke", w.args[0], guest("calc")};
    rest.insert(rest.end(), w.args.begin() + 1, w.args.end());
    auto r = run_process(wasio_run(rest));
    EXPECT_EQ(r.status, w.status) << w.args[0] << ": " << r.err;
    EXPECT_EQ(r.out, w.out) << w.args[0];
    if (w.err.empty()) {
      EXPECT_EQ(r.err, "") << w.args[0];
    } else {
      EXPECT_NE(r.err.find(w.err), std::string::npos) << w.args[0] << ": " << r.err;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
  }
  // A module that imports what the CLI does not have fails to start, in one line.
  auto r = run_process(wasio_run({"--invoke", "handle", guest("reactor"), "1"}));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("which the host does not define"), std::string::npos) << r.err;
}

// SIMD, bulk memory, sign extension, non-trapping float-to-int, multi-value, reference types
// and exception handling (V8 10.2's, the legacy try/catch), through the asyncify rewrite too.
TEST(cli, modules_using_current_wasm_features_run) {
  auto r = run_process(wasio_run({guest("features")}));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "features ok\n");
}

TEST(cli, args_and_environment_round_trip) {
  std::string g = guest("args_env");
  auto r = run_process(wasio_run({"--env", "A=1", "--env", "EMPTY=", "--env", "SPACE=a b", g, "x", "y z", "--env", ""}));
  EXPECT_EQ(r.status, 0) << r.err;
  // argv[0] is the module path as given; flags after the module belong to the guest.
  EXPECT_EQ(r.out, "argv[0]=" + g + "\nargv[1]=x\nargv[2]=y z\nargv[3]=--env\nargv[4]=\n"
                   "env=A=1\nenv=EMPTY=\nenv=SPACE=a b\n");
}

TEST(cli, exit_codes) {
  for (int code : {0, 1, 7, 42, 255}) {
    auto r = run_process(wasio_run({guest("exit_code"), std::to_string(code)}));
    EXPECT_EQ(r.status, code) << r.err;
  }
}

TEST(cli, trap_prints_one_line_and_exits_134) {
  auto r = run_process(wasio_run({guest("trap")}));
  EXPECT_EQ(r.status, 134);
  EXPECT_EQ(r.out, "before trap\n");  // what the guest flushed before trapping is kept
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("unreachable"), std::string::npos) << r.err;
}

TEST(cli, cat_copies_a_large_pipe_exactly) {
  std::string data(8 << 20, '\0');
  std::mt19937 rng(42);
  for (auto& c : data) c = static_cast<char>(rng());
  auto r = run_process(wasio_run({guest("cat")}), data);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.size(), data.size());
  EXPECT_TRUE(r.out == data);
}

TEST(cli, cat_of_empty_stdin) {
  auto r = run_process(wasio_run({guest("cat")}), "");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(cli, sleeping_guest) {
  auto r = run_process(wasio_run({guest("sleeper"), "50"}));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "slept\n");
}

// 1000 guests that each sleep 1 s in poll_oneoff: suspended, not parked on threads, so they
// overlap. Run one after another they would take 1000 s; the bound only proves they overlapped.
TEST(cli, thousand_sleepers_overlap) {
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_process(wasio_run({"--instances", "1000", guest("sleeper"), "1000"}));
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(count_lines(r.out), 1000u);
  EXPECT_LT(secs, 100.0);
}

// The same with 1 ms slices, so that the watchdog interrupts nearly every segment of wasm it
// sees, wherever it is: guests are parked at random points of their own code, never within a
// call of theirs (docs/why-parking.md). In cli_tests_hibernating, where every waiting guest's
// memory is packed at once and made inaccessible, a guest parked while its call's unwind still
// ran read its packed memory and crashed the host.
TEST(cli, guests_interrupted_at_every_slice_all_end) {
  auto r = run_process(wasio_run({"--instances", "1000", "--time-slice", "1", guest("sleeper"), "100"}));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(count_lines(r.out), 1000u);
}

TEST(cli, instances_fail_if_any_fails) {
  auto r = run_process(wasio_run({"--instances", "3", guest("exit_code"), "3"}));
  EXPECT_EQ(r.status, 3);
}

TEST(cli, poll_oneoff_clocks) {
  auto r = run_process(wasio_run({guest("poll_clock")}));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "ok\n");
}

TEST(cli, poll_oneoff_on_stdin_pipe) {
  auto r = run_process(wasio_run({guest("poll_stdin")}), "line one\nline two\n");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "line one\nline two\n");
}

TEST(cli, wasi_slice_semantics) {
  auto r = run_process(wasio_run({"--env", "K=V", guest("wasi_misc"), "a", "bc"}));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "ok\n");
}

TEST(cli, bad_pointers_get_efault_and_host_survives) {
  auto r = run_process(wasio_run({guest("bad_pointers")}));
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("FAIL"), std::string::npos) << r.out;
}

TEST(cli, preopened_directories) {
  auto dir = std::filesystem::temp_directory_path() / ("wasio-cli-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto r = run_process(wasio_run({"--dir", dir.string() + "::/data", "--dir-ro", dir.string(), guest("preopen")}));
  std::filesystem::remove_all(dir);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "preopen 3 /data\npreopen 4 " + dir.string() + "\nshort_buf_errno 37\n");
}

// --dir-overlay: the guest works on the host directory's contents, and the host sees none of
// its changes; --dir-mem: an empty directory in memory. Both are listed as preopens in order.
TEST(cli, overlay_and_memory_directories) {
  auto dir = std::filesystem::temp_directory_path() / ("wasio-cli-ov-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "in.txt") << "host\n";
  auto r = run_process(wasio_run({"--dir-overlay", dir.string() + "::/ov", "--dir-mem", "/mem", guest("preopen")}));
  EXPECT_EQ(r.out, "preopen 3 /ov\npreopen 4 /mem\nshort_buf_errno 37\n") << r.err;
  r = run_process(wasio_run({"--dir-overlay", dir.string() + "::/ov", guest("copy_file"), "/ov/in.txt", "/ov/out.txt", "more"}));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "copied 5\n");
  r = run_process(wasio_run({"--dir-mem", "/mem", guest("copy_file"), "/mem/none", "/mem/out.txt"}));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("No such file"), std::string::npos) << r.err;
  std::vector<std::string> left;
  for (auto& e : std::filesystem::directory_iterator(dir)) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"in.txt"});
  std::ifstream f(dir / "in.txt");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(f), {}), "host\n");
  r = run_process(wasio_run({"--dir-overlay", "/no/such/dir::/x", guest("hello")}));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("/no/such/dir"), std::string::npos) << r.err;
  std::filesystem::remove_all(dir);
}

TEST(cli, missing_preopen_is_a_clear_error) {
  auto r = run_process(wasio_run({"--dir", "/no/such/dir", guest("hello")}));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("/no/such/dir"), std::string::npos) << r.err;
}

TEST(cli, bad_command_lines_are_one_line_errors) {
  for (auto args : std::vector<std::vector<std::string>>{
           {cli}, {cli, "run"}, {cli, "frobnicate"}, {cli, "run", "--instances", "0", guest("hello")},
           {cli, "run", "--no-such-flag", guest("hello")}, {cli, "run", "--env", "NOEQUALS", guest("hello")}}) {
    auto r = run_process(args);
    EXPECT_NE(r.status, 0);
    EXPECT_LT(r.status, 128) << "crashed";
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_EQ(r.out, "");
  }
}

TEST(cli, bad_modules_are_one_line_errors) {
  auto dir = std::filesystem::temp_directory_path() / ("wasio-bad-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir / name, std::ios::binary) << bytes;
    return (dir / name).string();
  };
  std::vector<std::string> paths = {
      (dir / "missing.wasm").string(),
      write("empty.wasm", ""),
      write("text.wasm", "this is not wasm\n"),
      write("truncated.wasm", std::string("\0asm\1\0\0\0\1\5", 10)),
      dir.string(),  // a directory
      // A valid module without _start.
      write("nostart.wasm", std::string("\0asm\1\0\0\0", 8)),
  };
  for (auto& p : paths) {
    auto r = run_process(wasio_run({p}));
    EXPECT_EQ(r.status, 1) << p << ": " << r.err;
    EXPECT_EQ(count_lines(r.err), 1u) << p << ": " << r.err;
  }
  std::filesystem::remove_all(dir);
}

TEST(cli, closed_stdin_is_badf_not_a_crash) {
  // The guest's fd 0 is closed: cat's first read fails and it exits non-zero, cleanly.
  auto argv = wasio_run({guest("cat")});
  std::vector<std::string> sh{"/bin/sh", "-c", "exec \"$0\" \"$@\" <&-"};
  sh.insert(sh.end(), argv.begin(), argv.end());
  auto r = run_process(sh);
  EXPECT_LT(r.status, 128) << r.err;
  EXPECT_NE(r.status, 0) << "a read of a closed fd failed";
}

// A closed stdout stays closed for the guest: its writes fail (badf), and nothing the CLI opens
// takes the fd's number meanwhile (an eventfd of the event loop would read and write as
// another stream would).
TEST(cli, closed_stdout_is_badf_and_no_fd_of_the_host_takes_its_place) {
  auto argv = wasio_run({guest("wasi_misc"), "stdio-closed"});
  std::vector<std::string> sh{"/bin/sh", "-c", "exec \"$0\" \"$@\" <&- >&-"};
  sh.insert(sh.end(), argv.begin(), argv.end());
  auto r = run_process(sh);
  EXPECT_EQ(r.status, 0) << r.err;
}

}  // namespace

namespace {
TEST(cli, reader_leaving_early_is_epipe_not_sigpipe) {
  auto r = run_process({"/bin/sh", "-c",
                        "head -c 10000000 /dev/zero | \"$0\" run \"$1\" | head -c 10 >/dev/null; echo \"${PIPESTATUS:-}\"",
                        cli, guest("cat")});
  // The host is not killed by SIGPIPE: the guest sees EPIPE and cat reports it and exits 1.
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.err.find("Broken pipe") != std::string::npos || r.err.empty(), true) << r.err;
}
}  // namespace

namespace {
TEST(cli, recycled_memories_start_zeroed) {
  auto r = run_process(wasio_run({"--instances", "200", "--workers", "1", guest("memory_hygiene")}));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(count_lines(r.out), 200u);
}
}  // namespace

namespace {
// Hostile and unusual modules (tests/guests/*.wat): each ends with a status and at most one
// line on stderr; the host never crashes.
struct odd_module {
  const char* name;
  int status;
};
class cli_odd : public ::testing::TestWithParam<odd_module> {};

TEST_P(cli_odd, ends_cleanly) {
  auto r = run_process(wasio_run({guest(GetParam().name)}));
  EXPECT_EQ(r.status, GetParam().status) << r.err;
  EXPECT_LE(count_lines(r.err), 1u) << r.err;
}

// Three instances on one worker share an isolate: however the first ended (a trap, a
// termination from proc_exit), the next ones end the same way, untouched by it.
TEST_P(cli_odd, leaves_the_worker_clean_for_the_next_guest) {
  auto r = run_process(wasio_run({"--instances", "3", "--workers", "1", guest(GetParam().name)}));
  EXPECT_EQ(r.status, GetParam().status) << r.err;
  if (GetParam().status == 134) {
    EXPECT_EQ(count_lines(r.err), 3u) << r.err;
    EXPECT_EQ(r.err.find("null"), std::string::npos) << r.err;
  }
}

// A module asyncified by its producer whose unwind does nothing (fake_asyncify.wat) goes on
// after each blocking call instead of unwinding. Each guest traps at its second call, named so,
// instead of having the host start one more operation for it per call: a module that did not
// unwind from a time-slice yield crashed the host that way (a segfault in Asio's timer service).
TEST(cli, a_guest_that_does_not_unwind_when_told_is_trapped) {
  auto r = run_process(wasio_run({"--mode", "asyncify", "--instances", "3", guest("fake_asyncify")}));
  EXPECT_EQ(r.status, 134);
  EXPECT_EQ(count_lines(r.err), 3u) << r.err;
  size_t named = 0;
  for (size_t at = 0; (at = r.err.find("went on instead of unwinding", at)) != std::string::npos; ++at) ++named;
  EXPECT_EQ(named, 3u) << r.err;
}

TEST(cli, asyncify_mode_refuses_what_only_fiber_mode_can_run) {
  auto r = run_process(wasio_run({"--mode", "asyncify", guest("no_stack_pointer")}));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("fiber mode can run it"), std::string::npos) << r.err;
  r = run_process(wasio_run({"-v", guest("no_stack_pointer")}));
  EXPECT_EQ(r.status, 0) << r.err;
  // Automatic mode runs it in a mode that can, and says why: JSPI where the engine has it.
  EXPECT_TRUE(r.err.find("no_stack_pointer.wasm: fiber: ") != std::string::npos ||
              r.err.find("no_stack_pointer.wasm: jspi: ") != std::string::npos)
      << r.err;
  r = run_process(wasio_run({"--mode", "sideways", guest("hello")}));
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
}

INSTANTIATE_TEST_SUITE_P(modules, cli_odd,
                         ::testing::Values(odd_module{"start_trap", 134}, odd_module{"foreign_import", 1},
                                           odd_module{"wrong_signature", 1}, odd_module{"no_memory", 21},
                                           odd_module{"deep_recursion", 134}, odd_module{"no_stack_pointer", 0},
                                           odd_module{"grow_then_call", 0}, odd_module{"exit_from_start", 5}),
                         [](const auto& info) { return std::string(info.param.name); });
}  // namespace

namespace {
// The thunks write exactly the bytes the spec gives each result, over sentinel memory.
TEST(cli, thunks_write_exactly_their_results) {
  auto dir = std::filesystem::temp_directory_path();
  auto r = run_process(wasio_run({"--env", "K=V", "--dir", dir.string() + "::/pre", guest("sentinel"), "a", "bc"}));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "ok\n");
}
}  // namespace

namespace {
// Every function of preview1 is served under both module names, with the witx's types; one
// imported with other types is refused before the guest runs, and the line says which.
TEST(cli, every_wasi_function_links_under_both_module_names) {
  auto r = run_process(wasio_run({guest("all_imports")}));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "ok\nok\n");
  r = run_process(wasio_run({guest("wrong_signature")}));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("imports wasi_snapshot_preview1.clock_time_get as (f64, f64, f64) -> (i32), but WASI "
                       "defines it as (i32, i64, i32) -> (i32)"),
            std::string::npos)
      << r.err;
}

// --trace: one line per WASI call on stderr (or in a file), decoded; the guest's stdout as it was.
TEST(cli, trace_shows_each_wasi_call) {
  auto r = run_process(wasio_run({"--trace", guest("hello")}));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "hello from wasio\n");
  EXPECT_NE(r.err.find("fd_write(fd=1, iovs=[2 iovecs, 17 bytes]) => 17 (success) "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("proc_exit"), std::string::npos) << r.err;  // hello returns from main
  auto file = std::filesystem::temp_directory_path() / ("wasio-trace-" + std::to_string(::getpid()));
  r = run_process(wasio_run({"--trace=" + file.string(), guest("sleeper"), "20"}));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "slept\n");
  EXPECT_EQ(r.err, "");
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(file);
  EXPECT_NE(text.find("clock_time_get(id=monotonic, precision="), std::string::npos) << text;
  EXPECT_NE(text.find("poll_oneoff(nsubscriptions=1) => 1 (success) "), std::string::npos) << text;
  r = run_process(wasio_run({"--trace=/nonexistent/dir/trace", guest("hello")}));
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
}

TEST(cli, wasi_unstable_guest) {
  auto r = run_process(wasio_run({guest("snapshot0")}));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "hello unstable\n");
}
}  // namespace

namespace {
// A file tree created, read, renamed and removed under a preopen, with escape attempts
// (`..`, an absolute path, a symlink to /etc) that must all fail.
TEST(cli, file_tree_under_a_preopen) {
  auto dir = std::filesystem::temp_directory_path() / ("wasio-files-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::create_directory_symlink("/etc", dir / "escape");
  auto r = run_process(wasio_run({"--dir", dir.string() + "::/sandbox", guest("files"), "/sandbox"}));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "ok\n");
  // The guest cleaned up after itself; only the host's symlink is left.
  std::vector<std::string> left;
  for (auto& e : std::filesystem::directory_iterator(dir)) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"escape"});
  EXPECT_FALSE(std::filesystem::exists("/etc/wasio-must-not-exist"));
  std::filesystem::remove_all(dir);
}

TEST(cli, read_only_preopen_refuses_writes) {
  auto dir = std::filesystem::temp_directory_path() / ("wasio-ro-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto r = run_process(wasio_run({"--dir-ro", dir.string() + "::/sandbox", guest("files"), "/sandbox"}));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("FAIL: mkdir a"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

// Every WASI call and its error cases through the raw imports of each module name
// (tests/guests/calls_body.h), under each resolution path and each file I/O mode.
class cli_calls : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {};

TEST_P(cli_calls, every_call_and_its_errors) {
  auto [module, env] = GetParam();
  auto dir = std::filesystem::temp_directory_path() / ("wasio-calls-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "d");
  std::filesystem::create_directories(dir / "ro");
  std::ofstream(dir / "ro" / "ro.txt") << "read only\n";
  std::filesystem::create_directory_symlink("/etc", dir / "ro" / "escape");
  auto cmd = wasio_run({"--dir", (dir / "d").string() + "::/d", "--dir-ro", (dir / "ro").string() + "::/ro",
                        "--env", "WASIO_T=yes", guest(module), "one"});
  cmd.insert(cmd.begin(), {"/usr/bin/env", env});
  auto r = run_process(cmd);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_EQ(r.out, std::string("ok ") + (std::string(module) == "calls_unstable" ? "wasi_unstable" : "wasi_snapshot_preview1") + "\n");
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(modules, cli_calls,
                         ::testing::Combine(::testing::Values("calls_preview1", "calls_unstable"),
                                            ::testing::Values("WASIO_FILE_IO=nowait", "WASIO_FILE_IO=uring",
                                                              "WASIO_FILE_IO=pool", "WASIO_RESOLVE=walk")),
                         [](const auto& info) {
                           std::string name = std::string(std::get<0>(info.param)) + "_" + std::get<1>(info.param);
                           std::replace(name.begin(), name.end(), '=', '_');
                           return name;
                         });

// A real program's view of a file tree: tree_ops (create, walk, rename, delete) prints the same
// transcript as a wasm guest under a preopen as it does natively on a real directory.
TEST(cli, tree_ops_transcript_equals_native) {
  auto base = std::filesystem::temp_directory_path() / ("wasio-tree-" + std::to_string(::getpid()));
  std::filesystem::remove_all(base);
  std::filesystem::create_directories(base / "native");
  std::filesystem::create_directories(base / "guest");
  auto native = run_process({WASIO_TREE_OPS_NATIVE, (base / "native").string()});
  ASSERT_EQ(native.status, 0) << native.err;
  for (const char* resolve : {"WASIO_RESOLVE=openat2", "WASIO_RESOLVE=walk"}) {
    auto cmd = wasio_run({"--dir", (base / "guest").string() + "::/work", guest("tree_ops"), "/work"});
    cmd.insert(cmd.begin(), {"/usr/bin/env", resolve});
    auto wasm = run_process(cmd);
    EXPECT_EQ(wasm.status, 0) << wasm.err;
    EXPECT_EQ(wasm.out, native.out) << resolve;
    EXPECT_TRUE(std::filesystem::is_empty(base / "guest"));
  }
  std::filesystem::remove_all(base);
}

// Limits from the command line: memory and fds make the guest's own calls fail; time limits
// stop it with one line and status 137.
TEST(cli, memory_limit_makes_malloc_fail) {
  auto r = run_process(wasio_run({"--max-memory", "8MiB", guest("hog"), "memory", "64"}));
  EXPECT_EQ(r.status, 0) << r.err;
  int got = -1;
  ASSERT_EQ(std::sscanf(r.out.c_str(), "memory %d MiB", &got), 1) << r.out;
  EXPECT_GT(got, 0);
  EXPECT_LT(got, 8);
  r = run_process(wasio_run({guest("hog"), "memory", "64"}));
  EXPECT_EQ(r.out, "memory 64 MiB\n");
}

TEST(cli, a_module_needing_more_memory_than_the_limit_does_not_start) {
  auto r = run_process(wasio_run({"--max-memory", "64KiB", guest("hog"), "memory", "1"}));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("pages of memory, more than the limit of 1"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(cli, fd_limit_gives_emfile) {
  auto dir = std::filesystem::temp_directory_path() / ("wasio-fds-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "f") << "x";
  // 3 stdio + 1 preopen leave 6 of 10.
  auto r = run_process(wasio_run({"--max-fds", "10", "--dir", dir.string() + "::/d", guest("hog"), "fds", "/d/f", "100"}));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "fds 6 EMFILE\n");
  std::filesystem::remove_all(dir);
}

TEST(cli, cpu_time_limit_stops_a_spinning_guest) {
  auto r = run_process(wasio_run({"--cpu-time", "0.2", guest("spin"), "1000000"}));
  EXPECT_EQ(r.status, 137);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("stopped: cpu time limit exceeded"), std::string::npos) << r.err;
}

// --fuel counts ticks (a function entry, return or loop iteration), the same on every run: spin's
// million iterations fit in 10 million, not in 10 thousand. In fiber mode no module counts
// ticks: one line says so.
TEST(cli, fuel_stops_a_guest_that_has_used_it_up) {
  for (std::string mode : {"asyncify", "fiber"}) {  // fiber mode's rewrite adds only the ticks
    auto r = run_process(wasio_run({"--mode", mode, "--fuel", "10000", guest("spin"), "1"}));
    EXPECT_EQ(r.status, 137) << mode;
    EXPECT_EQ(r.out, "") << mode;
    EXPECT_NE(r.err.find("stopped: fuel exhausted"), std::string::npos) << mode << ": " << r.err;
    r = run_process(wasio_run({"--mode", mode, "--fuel", "10000000", guest("spin"), "1"}));
    EXPECT_EQ(r.status, 0) << mode << ": " << r.err;
    EXPECT_EQ(r.out, "done\n") << mode;
  }
  auto r = run_process(wasio_run({"--mode", "jspi", "--fuel", "10000000", guest("spin"), "1"}));
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  if (r.err.find("has no JSPI") == std::string::npos) {  // V8 11.3: JSPI leaves the code as given
    EXPECT_NE(r.err.find("needs asyncify or fiber mode"), std::string::npos) << r.err;
  }
}

TEST(cli, wall_time_limit_stops_sleeping_and_spinning_guests) {
  for (auto args : {std::vector<std::string>{guest("sleeper"), "600000"},
                    std::vector<std::string>{guest("spin"), "1000000"}}) {
    std::vector<std::string> cmd{"--wall-time", "0.2"};
    cmd.insert(cmd.end(), args.begin(), args.end());
    auto r = run_process(wasio_run(cmd));
    EXPECT_EQ(r.status, 137) << args[0];
    EXPECT_NE(r.err.find("stopped: wall time limit exceeded"), std::string::npos) << r.err;
  }
}

TEST(cli, limits_take_their_flags_before_the_module) {
  auto r = run_process(wasio_run({"--max-fds", "5", guest("args_env"), "--max-fds", "x"}));
  EXPECT_EQ(r.status, 0) << r.err;  // after the module, the flags are the guest's arguments
  EXPECT_NE(r.out.find("--max-fds"), std::string::npos) << r.out;
  r = run_process(wasio_run({"--cpu-time", "-1", guest("hello")}));
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}
}  // namespace

namespace {
// `argv` run by the shell with stdin a pipe that gets its line only after 100 ms: a read of it
// really waits (suspends), where run_process's input is there at once.
wasio::test::process_result run_with_late_stdin(const std::vector<std::string>& argv) {
  std::string cmd = "(sleep 0.1; echo x) 2>/dev/null | exec";
  for (const auto& a : argv) cmd += " '" + a + "'";
  return run_process({"/bin/sh", "-c", cmd});
}

// Global 0 is a bump allocator's next free byte, not a stack pointer: no mode may put a buffer
// below it. Automatic mode runs such a module as given (fiber), asyncify mode refuses it.
TEST(cli, a_global_that_is_not_a_stack_pointer_keeps_its_data_through_every_suspension) {
  for (std::string name : {"bump_allocator", "bump_allocator_low"}) {
    for (std::string mode : {"auto", "fiber"}) {
      auto r = run_with_late_stdin(wasio_run({"--mode", mode, guest(name)}));
      EXPECT_EQ(r.status, 0) << name << " " << mode << ": " << r.err;
      EXPECT_EQ(r.out, "intact\n") << name << " " << mode;
    }
    auto r = run_with_late_stdin(wasio_run({"--mode", "asyncify", guest(name)}));
    EXPECT_EQ(r.status, 1) << name;
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find("no shadow-stack pointer"), std::string::npos) << r.err;
  }
}

// A guest that blocks deep in its own stack resumes with every frame and all its data intact, in
// every mode, as deep as its stack allows: 3,000 frames in wasm-ld's default 64 KiB (about 4,000
// fit; their unwind data does not fit in the free stack, so asyncify mode borrows the end of
// memory), 10,000 in Rust's 1 MiB.
TEST(cli, a_guest_blocking_deep_in_its_stack_resumes_intact) {
  for (auto [name, depth] : {std::pair<std::string, std::string>{"deep_block", "3000"},
                             {"deep_block_1m", "10000"}}) {
    for (std::string mode : {"auto", "asyncify", "fiber"}) {
      auto r = run_with_late_stdin(wasio_run({"--mode", mode, guest(name), depth}));
      EXPECT_EQ(r.status, 0) << name << " " << depth << " " << mode << ": " << r.err;
      EXPECT_EQ(r.out, "ok " + depth + "\n") << name << " " << depth << " " << mode;
    }
  }
}

// A call the guest waits in writes its outputs where the guest pointed it, even at the bottom of
// its free stack, where asyncify mode's unwind data lies while the guest waits: the outputs are
// there when it returns, and the guest resumes intact (the import ABI fuzzer found poll_oneoff's
// event count there breaking the rewind: a trap).
TEST(cli, a_blocking_call_may_write_its_outputs_into_the_free_stack) {
  for (std::string mode : {"auto", "asyncify", "fiber", "jspi"}) {
    auto r = run_with_late_stdin(wasio_run({"--mode", mode, guest("free_stack_outputs")}));
    if (mode == "jspi" && r.err.find("has no JSPI") != std::string::npos) continue;  // V8 10.2
    EXPECT_EQ(r.status, 0) << mode << ": " << r.err;
    EXPECT_EQ(r.out, "ok\n") << mode;
  }
}
}  // namespace

namespace {
// A Go program that sleeps and reads (tests/guests/go/sleep_read.go) runs in every mode that can
// run it: automatic mode picks JSPI where the engine has it, else fiber mode (asyncify cannot
// serve it: Go keeps no shadow-stack pointer that wasio recognises).
TEST(cli, a_go_program_sleeps_and_reads_in_every_mode_that_serves_it) {
  std::string wasm = guest("go_sleep_read");
  if (::access(wasm.c_str(), R_OK) != 0) GTEST_SKIP() << "no Go 1.21 or later here to build " << wasm;
  for (std::string mode : {"auto", "fiber", "jspi"}) {
    auto r = run_with_late_stdin(wasio_run({"--mode", mode, wasm}));
    if (mode == "jspi" && r.err.find("has no JSPI") != std::string::npos) continue;  // V8 10.2
    EXPECT_EQ(r.status, 0) << mode << ": " << r.err;
    EXPECT_EQ(r.out, "go: started\ngo: read x\n") << mode;
  }
}

// V8 11.3 counts each JSPI stack's whole reservation (16 MiB) as external memory of its isolate
// until a GC frees it, and starts a full GC every 64 MB more of that: every fourth guest did,
// each GC walking every suspended stack (20,000 waiting guests took 16 times asyncify's time).
// wasio takes the stacks off the count: 500 guests, each making two stacks (its start function
// and _start), start no full GC of their own (1,000 stacks started about 250 before).
TEST(cli, jspi_stacks_start_no_garbage_collections) {
  std::vector<std::string> argv = {"/usr/bin/env", "WASIO_V8_FLAGS=--trace-gc"};
  for (auto& a : wasio_run({"--mode", "jspi", "--instances", "500", guest("start_blocks")})) argv.push_back(a);
  auto r = run_process(argv);
  if (r.err.find("has no JSPI") != std::string::npos) GTEST_SKIP() << "no JSPI in this engine (V8 10.2)";
  ASSERT_EQ(r.status, 0) << r.err;
  size_t full = 0;
  for (size_t at = 0; (at = r.out.find("Mark-Compact", at)) != std::string::npos; ++at) ++full;
  EXPECT_LT(full, 10u) << r.out.substr(0, 2000);
}

// A start function that blocks runs to its end before _start, in every mode. V8 11.3 traps a
// suspending import called from a start function, so JSPI's rewrite moves the start function
// to an export that the host calls once the module is instantiated; an exit or a trap there ends
// the guest as it does during instantiation.
TEST(cli, a_start_function_may_block_and_end_the_guest_in_every_mode) {
  for (std::string mode : {"auto", "fiber", "jspi"}) {
    auto r = run_process(wasio_run({"--mode", mode, guest("start_blocks")}));
    if (mode == "jspi" && r.err.find("has no JSPI") != std::string::npos) continue;  // V8 10.2
    EXPECT_EQ(r.status, 0) << mode << ": " << r.err;
    EXPECT_EQ(r.out, "start\nmain\n") << mode;
    EXPECT_EQ(run_process(wasio_run({"--mode", mode, guest("exit_from_start")})).status, 5) << mode;
    r = run_process(wasio_run({"--mode", mode, guest("start_trap")}));
    EXPECT_EQ(r.status, 134) << mode;
    EXPECT_EQ(count_lines(r.err), 1u) << mode << ": " << r.err;
  }
}

// A call's host cost is bounded whatever the guest asks (tests/guests/host_cost.c).
TEST(cli, host_cost_of_one_call_is_bounded) {
  auto r = run_process(wasio_run({guest("host_cost")}));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "ok\n") << r.err;
}
}  // namespace
