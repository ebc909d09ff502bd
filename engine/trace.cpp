// Tracing WASI calls (config::trace, `wasio run --trace`): each completed call is decoded from
// its row in src/wasi/functions.hpp and the guest's memory, as wasi-go's Trace wrapper and
// strace show a call: strings and sizes, not raw pointers; the values stored for the guest.
#include <cinttypes>
#include <cstdio>
#include <string>

#include "engine/thunk.hpp"

namespace wasio {

namespace {

std::string duration_text(std::chrono::nanoseconds d) {
  char buf[32];
  double ns = static_cast<double>(d.count());
  if (ns < 1e3) std::snprintf(buf, sizeof buf, "%" PRId64 "ns", static_cast<int64_t>(d.count()));
  else if (ns < 1e6) std::snprintf(buf, sizeof buf, "%.1fµs", ns / 1e3);
  else if (ns < 1e9) std::snprintf(buf, sizeof buf, "%.1fms", ns / 1e6);
  else std::snprintf(buf, sizeof buf, "%.2fs", ns / 1e9);
  return buf;
}

}  // namespace

std::string wasi_call::line() const {
  std::string s(function);
  s += '(';
  s += arguments;
  s += ')';
  if (!returns) return s;
  s += " => ";
  if (!results.empty()) {
    s += results;
    s += ' ';
  }
  s += '(';
  s += name(error);
  s += ") ";
  s += duration_text(duration);
  return s;
}

}  // namespace wasio

namespace wasio::engine::detail {
namespace {

constexpr size_t kMaxShownString = 200;  // bytes of a string argument shown; longer ones end in ...
constexpr uint32_t kMaxSummedIovecs = 1024;

std::string count_of(uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + ' ' + std::string(n == 1 ? one : many);
}

void append_hex(std::string& s, uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  s += buf;
}

void append_quoted(std::string& s, std::string_view text) {
  s += '"';
  for (size_t i = 0; i < text.size() && i < kMaxShownString; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      s += '\\';
      s += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      s += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      s += buf;
    }
  }
  s += text.size() > kMaxShownString ? "\"..." : "\"";
}

std::string_view clock_name(uint64_t id) {
  constexpr std::string_view names[] = {"realtime", "monotonic", "process_cputime_id", "thread_cputime_id"};
  return id < std::size(names) ? names[id] : std::string_view{};
}

// `[2 iovecs, 13 bytes]`: the iovec array's count and the bytes its first entries hold.
void append_iovecs(std::string& s, const guest_memory& mem, uint32_t ptr, uint32_t count) {
  uint64_t bytes = 0;
  uint32_t summed = std::min(count, kMaxSummedIovecs);
  for (uint32_t i = 0; i < summed; ++i) {
    auto len = mem.load<uint32_t>(uint64_t{ptr} + uint64_t{i} * 8 + 4);
    if (!len) {
      s += "<fault>";
      return;
    }
    bytes += len.value();
  }
  s += '[' + count_of(count, "iovec", "iovecs") + ", " +
       (summed < count ? std::to_string(bytes) + "+ bytes]" : count_of(bytes, "byte", "bytes") + ']');
}

}  // namespace

std::vector<uint64_t> raw_arguments(size_t row, const v8::FunctionCallbackInfo<v8::Value>& info) {
  std::vector<uint64_t> args;
  int k = 0;
  wasi::arg_spec a;
  for (wasi::arg_reader r(wasi::functions[row].params); r.next(a);) {
    if (a.optional && info[k]->IsUndefined()) break;  // the shorter version of the ABI
    args.push_back(wasi::is_i64(a.kind) ? next_arg<uint64_t>(info, k) : next_arg<uint32_t>(info, k));
  }
  return args;
}

std::optional<std::string> report_call(guest& g, size_t row, std::span<const uint64_t> values,
                                       std::optional<int32_t> err) {
  const wasi::function_row& f = wasi::functions[row];
  auto took = std::chrono::steady_clock::now() - g.trace_start();
  bool ok = !err || *err == 0;
  guest_memory mem = g.memory();
  struct raw {
    wasi::arg_spec spec;
    uint64_t value;
  };
  std::vector<raw> args;
  wasi::arg_spec a;
  for (wasi::arg_reader r(f.params); args.size() < values.size() && r.next(a);) args.push_back({a, values[args.size()]});
  std::string text, results;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& [spec, v] = args[i];
    using wasi::arg_kind;
    if (spec.kind == arg_kind::len || spec.kind == arg_kind::ptr) continue;
    if (spec.kind == arg_kind::out32 || spec.kind == arg_kind::out64) {
      if (!ok) continue;
      std::optional<uint64_t> stored;
      if (spec.kind == arg_kind::out32) {
        if (auto x = mem.load<uint32_t>(v)) stored = x.value();
      } else if (auto x = mem.load<uint64_t>(v)) {
        stored = x.value();
      }
      if (!results.empty()) results += ", ";
      results += stored ? std::to_string(*stored) : std::string("<fault>");
      continue;
    }
    if (!text.empty()) text += ", ";
    text += spec.name;
    text += '=';
    uint32_t len = i + 1 < args.size() ? static_cast<uint32_t>(args[i + 1].value) : 0;
    switch (spec.kind) {
      case arg_kind::flags:
      case arg_kind::rights: append_hex(text, v); break;
      case arg_kind::s64: text += std::to_string(static_cast<int64_t>(v)); break;
      case arg_kind::clockid:
        if (auto n = clock_name(v); !n.empty()) text += n;
        else text += std::to_string(v);
        break;
      case arg_kind::whence: text += v == 0 ? "set" : v == 1 ? "cur" : v == 2 ? "end" : std::to_string(v); break;
      case arg_kind::str: {
        auto str = mem.string(v, len);
        if (str) append_quoted(text, str.value());
        else text += "<fault>";
        break;
      }
      case arg_kind::iovs: append_iovecs(text, mem, static_cast<uint32_t>(v), len); break;
      case arg_kind::buf: text += count_of(len, "byte", "bytes"); break;
      default: text += std::to_string(v); break;
    }
  }
  wasi_call c;
  c.function = f.name;
  c.arguments = text;
  c.results = results;
  c.error = static_cast<errc>(err.value_or(0));
  c.returns = f.returns;
  c.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(took);
  try {
    g.trace()(c);
  } catch (const std::exception& e) {  // must not unwind through V8's frames: a trap instead
    return std::string("the trace hook threw: ") + e.what();
  }
  return std::nullopt;
}

void report_call(guest& g, size_t row, const v8::FunctionCallbackInfo<v8::Value>& info, std::optional<int32_t> err) {
  if (auto failed = report_call(g, row, raw_arguments(row, info), err)) {
    v8::Isolate* iso = info.GetIsolate();
    iso->ThrowException(v8::Exception::Error(v8::String::NewFromUtf8(iso, failed->c_str()).ToLocalChecked()));
  }
}

}  // namespace wasio::engine::detail
