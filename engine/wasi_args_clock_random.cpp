// Thunks: args_*, environ_*, clock_*, random_get.
#include "engine/imports.hpp"
#include "engine/layout.hpp"
#include "engine/thunk.hpp"
#include "src/wasi/wasi.hpp"

namespace wasio::engine {
namespace {

// args_get / environ_get: the list as layout::encode_string_list packs it.
errc write_string_list(call c, const std::vector<std::string>& list, uint32_t argv_ptr, uint32_t buf_ptr) {
  WASIO_TRY_ERRC(sizes, wasi::string_list_sizes_of(list));
  return status(layout::encode_string_list(c.mem(), list, sizes.buf_bytes, argv_ptr, buf_ptr));
}

errc write_string_list_sizes(call c, const std::vector<std::string>& list, uint32_t count_ptr, uint32_t size_ptr) {
  WASIO_TRY_ERRC(sizes, wasi::string_list_sizes_of(list));
  WASIO_TRY_ERRC(count, c.mem().out<uint32_t>(count_ptr));
  WASIO_TRY_ERRC(bytes, c.mem().out<uint32_t>(size_ptr));
  count.set(sizes.count);
  bytes.set(sizes.buf_bytes);
  return errc::success;
}

errc args_get(call c, uint32_t argv, uint32_t buf) { return write_string_list(c, c.ctx().args, argv, buf); }
errc args_sizes_get(call c, uint32_t count, uint32_t size) { return write_string_list_sizes(c, c.ctx().args, count, size); }
errc environ_get(call c, uint32_t env, uint32_t buf) { return write_string_list(c, c.ctx().env, env, buf); }
errc environ_sizes_get(call c, uint32_t count, uint32_t size) { return write_string_list_sizes(c, c.ctx().env, count, size); }

errc clock_res_get(call c, uint32_t id, uint32_t res_ptr) {
  WASIO_TRY_ERRC(out, c.mem().out<uint64_t>(res_ptr));
  WASIO_TRY_ERRC(res, wasi::clock_res_get(id));
  out.set(res);
  return errc::success;
}

errc clock_time_get(call c, uint32_t id, uint64_t precision, uint32_t time_ptr) {
  WASIO_TRY_ERRC(out, c.mem().out<uint64_t>(time_ptr));
  WASIO_TRY_ERRC(t, wasi::clock_time_get(id, precision));
  out.set(t);
  return errc::success;
}

errc random_get(call c, uint32_t buf, uint32_t len) {
  WASIO_TRY_ERRC(bytes, c.mem().bytes(buf, len));
  return status(wasi::random_get(bytes));
}

constexpr import_row rows[] = {
    row<"args_get", &args_get>(),
    row<"args_sizes_get", &args_sizes_get>(),
    row<"environ_get", &environ_get>(),
    row<"environ_sizes_get", &environ_sizes_get>(),
    row<"clock_res_get", &clock_res_get>(),
    row<"clock_time_get", &clock_time_get>(),
    row<"random_get", &random_get>(),
};

}  // namespace

std::span<const import_row> args_clock_random_rows() { return rows; }

}  // namespace wasio::engine
