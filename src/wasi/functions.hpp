// The WASI functions wasio serves, one row each: the one list that the import objects, the
// asyncify rewrite's import lists (and so its cache key), the import check, tracing and the
// function list in docs/status.md derive from. Adding a function is a row here, its semantics
// (wasi.hpp) and its thunk (engine/wasi_<group>.cpp, bound to the row by name, checked against
// it at compile time).
//
// A row's parameters are its wasm parameters, as the witx lowers them
// (https://github.com/WebAssembly/WASI/blob/main/legacy/preview1/witx/wasi_snapshot_preview1.witx):
// "name:kind" each, separated by spaces. The kind gives the wasm type and how a trace shows it:
//   i32: fd, u32, flags (hex), clockid, whence, exitcode, signal,
//        str / iovs / buf (a pointer; the next parameter, of kind len, is its length: a trace
//        shows the string, the iovecs' count and bytes, the buffer's size),
//        ptr (a record or an array whose pointer a trace does not show),
//        out32 / out64 (where the call stores a u32 / u64 result: a trace shows the value);
//   i64: u64, s64, time, rights (hex).
// A trailing "?" marks a parameter that one version of an ABI has and another has not (the
// WasmEdge socket extension's v1 and v2): an import may declare it or not.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace wasio::wasi {

enum class arg_kind : uint8_t {
  fd, u32, flags, clockid, whence, exitcode, signal, str, iovs, buf, len, ptr, out32, out64,  // i32
  u64, s64, time, rights,                                                                     // i64
  invalid,
};

constexpr bool is_i64(arg_kind k) { return k >= arg_kind::u64 && k != arg_kind::invalid; }

// The module names a row is served under.
enum module_set : uint8_t { preview1 = 1, unstable = 2, both = 3 };

struct function_row {
  std::string_view name;
  std::string_view params;
  bool blocking;         // may suspend the guest (listed to asyncify as such)
  uint8_t modules;       // module_set
  bool returns = true;   // returns an errno (proc_exit returns nothing)
  // Part of wasi_snapshot_preview1 itself (the 46), not of the WasmEdge socket extension.
  bool standard = true;
};

struct arg_spec {
  std::string_view name;
  arg_kind kind = arg_kind::invalid;
  bool optional = false;
};

constexpr arg_kind kind_named(std::string_view s) {
  constexpr std::string_view names[] = {"fd",  "u32", "flags", "clockid", "whence", "exitcode", "signal",
                                        "str", "iovs", "buf",  "len",     "ptr",    "out32",    "out64",
                                        "u64", "s64", "time",  "rights"};
  for (size_t i = 0; i < std::size(names); ++i) {
    if (names[i] == s) return static_cast<arg_kind>(i);
  }
  return arg_kind::invalid;
}

// Walks a row's parameter list: `for (arg_reader r(row.params); auto a = r.next();)`.
class arg_reader {
 public:
  constexpr explicit arg_reader(std::string_view params) : rest_(params) {}
  constexpr bool next(arg_spec& out) {
    while (!rest_.empty() && rest_.front() == ' ') rest_.remove_prefix(1);
    if (rest_.empty()) return false;
    size_t end = rest_.find(' ');
    std::string_view tok = rest_.substr(0, end);
    rest_ = end == std::string_view::npos ? std::string_view{} : rest_.substr(end);
    size_t colon = tok.find(':');
    out = arg_spec{};
    if (colon == std::string_view::npos) return true;  // kind invalid: the table test fails
    out.name = tok.substr(0, colon);
    std::string_view kind = tok.substr(colon + 1);
    if (!kind.empty() && kind.back() == '?') {
      out.optional = true;
      kind.remove_suffix(1);
    }
    out.kind = kind_named(kind);
    return true;
  }

 private:
  std::string_view rest_;
};

constexpr size_t arg_count(const function_row& f) {
  size_t n = 0;
  arg_spec a;
  for (arg_reader r(f.params); r.next(a);) ++n;
  return n;
}

constexpr arg_spec arg_at(const function_row& f, size_t i) {
  arg_spec a;
  for (arg_reader r(f.params); r.next(a) && i > 0; --i) {
  }
  return a;
}

constexpr bool blocks = true;

// In the witx's order, then the variants of wasi_unstable (snapshot 0) whose ABI differs, then
// the WasmEdge socket extension
// (https://github.com/second-state/wasmedge_wasi_socket, as stealthrocket/wasi-go's
// imports/wasi_snapshot_preview1/wasmedge.go serves it).
inline constexpr function_row functions[] = {
    {"args_get", "argv:ptr argv_buf:ptr", false, both},
    {"args_sizes_get", "argc:out32 argv_buf_size:out32", false, both},
    {"environ_get", "environ:ptr environ_buf:ptr", false, both},
    {"environ_sizes_get", "environc:out32 environ_buf_size:out32", false, both},
    {"clock_res_get", "id:clockid resolution:out64", false, both},
    {"clock_time_get", "id:clockid precision:time time:out64", false, both},
    {"fd_advise", "fd:fd offset:u64 len:u64 advice:u32", false, both},
    {"fd_allocate", "fd:fd offset:u64 len:u64", false, both},
    {"fd_close", "fd:fd", false, both},
    {"fd_datasync", "fd:fd", blocks, both},
    {"fd_fdstat_get", "fd:fd stat:ptr", false, both},
    {"fd_fdstat_set_flags", "fd:fd flags:flags", false, both},
    {"fd_fdstat_set_rights", "fd:fd fs_rights_base:rights fs_rights_inheriting:rights", false, both},
    {"fd_filestat_get", "fd:fd buf:ptr", false, preview1},
    {"fd_filestat_set_size", "fd:fd size:u64", false, both},
    {"fd_filestat_set_times", "fd:fd atim:time mtim:time fst_flags:flags", false, both},
    {"fd_pread", "fd:fd iovs:iovs iovs_len:len offset:u64 nread:out32", blocks, both},
    {"fd_prestat_get", "fd:fd buf:ptr", false, both},
    {"fd_prestat_dir_name", "fd:fd path:buf path_len:len", false, both},
    {"fd_pwrite", "fd:fd iovs:iovs iovs_len:len offset:u64 nwritten:out32", blocks, both},
    {"fd_read", "fd:fd iovs:iovs iovs_len:len nread:out32", blocks, both},
    {"fd_readdir", "fd:fd buf:buf buf_len:len cookie:u64 bufused:out32", false, both},
    {"fd_renumber", "fd:fd to:fd", false, both},
    {"fd_seek", "fd:fd offset:s64 whence:whence newoffset:out64", false, preview1},
    {"fd_sync", "fd:fd", blocks, both},
    {"fd_tell", "fd:fd offset:out64", false, both},
    {"fd_write", "fd:fd iovs:iovs iovs_len:len nwritten:out32", blocks, both},
    {"path_create_directory", "fd:fd path:str path_len:len", false, both},
    {"path_filestat_get", "fd:fd flags:flags path:str path_len:len buf:ptr", false, preview1},
    {"path_filestat_set_times", "fd:fd flags:flags path:str path_len:len atim:time mtim:time fst_flags:flags", false,
     both},
    {"path_link", "old_fd:fd old_flags:flags old_path:str old_path_len:len new_fd:fd new_path:str new_path_len:len",
     false, both},
    {"path_open",
     "fd:fd dirflags:flags path:str path_len:len oflags:flags fs_rights_base:rights fs_rights_inheriting:rights "
     "fdflags:flags opened_fd:out32",
     false, both},
    {"path_readlink", "fd:fd path:str path_len:len buf:buf buf_len:len bufused:out32", false, both},
    {"path_remove_directory", "fd:fd path:str path_len:len", false, both},
    {"path_rename", "fd:fd old_path:str old_path_len:len new_fd:fd new_path:str new_path_len:len", false, both},
    {"path_symlink", "old_path:str old_path_len:len fd:fd new_path:str new_path_len:len", false, both},
    {"path_unlink_file", "fd:fd path:str path_len:len", false, both},
    {"poll_oneoff", "in:ptr out:ptr nsubscriptions:u32 nevents:out32", blocks, preview1},
    {"proc_exit", "rval:exitcode", false, both, false},
    {"proc_raise", "sig:signal", false, both},
    {"sched_yield", "", blocks, both},
    {"random_get", "buf:buf buf_len:len", false, both},
    {"sock_accept", "fd:fd flags:flags opened_fd:out32?", blocks, both},
    {"sock_recv", "fd:fd ri_data:iovs ri_data_len:len ri_flags:flags ro_datalen:out32 ro_flags:ptr", blocks, both},
    {"sock_send", "fd:fd si_data:iovs si_data_len:len si_flags:flags so_datalen:out32", blocks, both},
    {"sock_shutdown", "fd:fd how:u32", false, both},

    // wasi_unstable: the same names with other layouts (filestat, subscription) or numbering
    // (whence: cur 0, end 1, set 2).
    {"fd_filestat_get", "fd:fd buf:ptr", false, unstable},
    {"fd_seek", "fd:fd offset:s64 whence:u32 newoffset:out64", false, unstable},
    {"path_filestat_get", "fd:fd flags:flags path:str path_len:len buf:ptr", false, unstable},
    {"poll_oneoff", "in:ptr out:ptr nsubscriptions:u32 nevents:out32", blocks, unstable},

    // The WasmEdge socket extension, under both module names. v1 and v2 differ in a few
    // parameters (the "?" ones); WasmEdge registers v2 under the _v2 names too.
    {"sock_open", "af:u32 type:u32 fd:out32", false, both, true, false},
    {"sock_bind", "fd:fd addr:ptr port:u32", false, both, true, false},
    {"sock_listen", "fd:fd backlog:u32", false, both, true, false},
    {"sock_connect", "fd:fd addr:ptr port:u32", blocks, both, true, false},
    {"sock_recv_from", "fd:fd ri_data:iovs ri_data_len:len addr:ptr ri_flags:flags a:ptr b:ptr ro_flags:ptr?",
     blocks, both, true, false},
    {"sock_send_to", "fd:fd si_data:iovs si_data_len:len addr:ptr port:u32 si_flags:flags so_datalen:out32", blocks,
     both, true, false},
    {"sock_getlocaladdr", "fd:fd addr:ptr a:ptr port:ptr?", false, both, true, false},
    {"sock_getpeeraddr", "fd:fd addr:ptr a:ptr port:ptr?", false, both, true, false},
    {"sock_getsockopt", "fd:fd level:u32 name:u32 value:ptr len:ptr", false, both, true, false},
    {"sock_setsockopt", "fd:fd level:u32 name:u32 value:ptr len:u32", false, both, true, false},
    {"sock_getaddrinfo",
     "node:str node_len:len service:str service_len:len hints:ptr res:ptr max:u32 res_len:out32", blocks, both,
     true, false},
    {"sock_open_v2", "af:u32 type:u32 fd:out32", false, both, true, false},
    {"sock_bind_v2", "fd:fd addr:ptr port:u32", false, both, true, false},
    {"sock_connect_v2", "fd:fd addr:ptr port:u32", blocks, both, true, false},
    {"sock_listen_v2", "fd:fd backlog:u32", false, both, true, false},
    {"sock_accept_v2", "fd:fd flags:flags opened_fd:out32?", blocks, both, true, false},
    {"sock_recv_v2", "fd:fd ri_data:iovs ri_data_len:len ri_flags:flags ro_datalen:out32 ro_flags:ptr", blocks,
     both, true, false},
    {"sock_recv_from_v2", "fd:fd ri_data:iovs ri_data_len:len addr:ptr ri_flags:flags a:ptr b:ptr ro_flags:ptr?",
     blocks, both, true, false},
    {"sock_send_v2", "fd:fd si_data:iovs si_data_len:len si_flags:flags so_datalen:out32", blocks, both, true,
     false},
    {"sock_send_to_v2", "fd:fd si_data:iovs si_data_len:len addr:ptr port:u32 si_flags:flags so_datalen:out32",
     blocks, both, true, false},
    {"sock_getlocaladdr_v2", "fd:fd addr:ptr a:ptr port:ptr?", false, both, true, false},
    {"sock_getpeeraddr_v2", "fd:fd addr:ptr a:ptr port:ptr?", false, both, true, false},
};

inline constexpr size_t kNoRow = SIZE_MAX;

// The row of `name` served under `module` (preview1 or unstable), or kNoRow.
constexpr size_t row_index(std::string_view name, module_set module) {
  for (size_t i = 0; i < std::size(functions); ++i) {
    if (functions[i].name == name && (functions[i].modules & module)) return i;
  }
  return kNoRow;
}

}  // namespace wasio::wasi
