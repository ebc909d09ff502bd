// Module bytes on their way to V8: the buffer they live in (engine/byte_buffer.hpp) and the
// section reader and edit of engine/wasm_summary.hpp, checked by compiling the edited modules
// with the real V8.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "async/unique_fd.hpp"
#include "engine/byte_buffer.hpp"
#include "engine/module.hpp"
#include "engine/wasm_summary.hpp"

namespace wasio::engine {
namespace {

using bytes_t = std::vector<uint8_t>;

bytes_t operator+(bytes_t a, const bytes_t& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const bytes_t header = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
const bytes_t types = {0x01, 0x04, 0x01, 0x60, 0x00, 0x00};          // one type: () -> ()
const bytes_t functions = {0x03, 0x02, 0x01, 0x00};                  // one function of type 0
const bytes_t memory = {0x05, 0x04, 0x01, 0x01, 0x02, 0x03};         // one memory: 2 to 3 pages
const bytes_t code = {0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b};           // its body: nothing
const bytes_t custom = {0x00, 0x04, 0x03, 'w', 'h', 'y'};            // a custom section "why"
const bytes_t imports = {0x02, 0x0e, 0x02, 0x01, 'm', 0x01, 'f', 0x00, 0x00,  // m.f: function of type 0
                         0x01, 'm', 0x01, 'g', 0x03, 0x7f, 0x00};             // m.g: i32 global

std::string text(std::span<const uint8_t> b) { return std::string(b.begin(), b.end()); }

// Compiles `b` with V8 (in fiber mode: as given, but for the memory edit). Empty when valid.
std::string compile_error(std::span<const uint8_t> b, byte_buffer* owner = nullptr) {
  return prepare_module(b, owner, nullptr, mode_choice::fiber).error;
}

TEST(byte_buffer, edits_its_start_in_the_room_in_front) {
  auto b = byte_buffer::copy_of(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("abcdef"), 6), 4);
  const uint8_t* rest = b.bytes().data() + 2;
  const uint8_t longer[] = {'X', 'Y', 'Z', 'W'};
  ASSERT_TRUE(b.replace_front(2, longer));  // "ab" -> "XYZW": 2 bytes into the room
  EXPECT_EQ(text(b.bytes()), "XYZWcdef");
  EXPECT_EQ(b.bytes().data() + 4, rest);  // the rest did not move
  ASSERT_TRUE(b.replace_front(4, std::span(longer, 1)));  // and shorter again
  EXPECT_EQ(text(b.bytes()), "Xcdef");
  const uint8_t too_long[7] = {};
  EXPECT_FALSE(b.replace_front(1, too_long));  // 6 more bytes, 5 of room left: refused, unchanged
  EXPECT_EQ(text(b.bytes()), "Xcdef");
  EXPECT_FALSE(b.replace_front(9, longer));  // more than there is
  b.narrow(1, 3);
  EXPECT_EQ(text(b.bytes()), "cde");
}

TEST(byte_buffer, reads_a_file_whole_and_survives_an_empty_one) {
  std::string path = ::testing::TempDir() + "byte_buffer_test";
  std::string data(5'000'000, 'x');  // past 2 MiB: in huge pages where the kernel has them
  data[4'999'999] = 'y';
  std::ofstream(path, std::ios::binary) << data;
  async::unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  auto b = byte_buffer::read_file(fd.get(), 64);
  ASSERT_TRUE(b);
  EXPECT_EQ(text(b->bytes()), data);
  std::ofstream(path, std::ios::binary | std::ios::trunc);
  async::unique_fd empty(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  auto e = byte_buffer::read_file(empty.get());
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->empty());
  std::remove(path.c_str());
  EXPECT_FALSE(byte_buffer::read_file(-1));
}

// A data section of three segments: active at 128 (2 bytes), passive, and at 16 in memory 0 given.
const bytes_t data = {0x0b, 0x13, 0x03,
                      0x00, 0x41, 0x80, 0x01, 0x0b, 0x02, 'h', 'i',  // active at 128, 2 bytes
                      0x01, 0x01, 'p',                              // passive: not placed
                      0x02, 0x00, 0x41, 0x10, 0x0b, 0x01, '!'};     // memory 0 given, at 16

TEST(wasm_summary, reads_the_memory_and_where_the_data_ends) {
  auto s = summarize(header + types + functions + memory + code + data);
  ASSERT_TRUE(s.own_memory);
  EXPECT_EQ(s.own_memory->initial, 2u);
  EXPECT_EQ(s.own_memory->maximum, 3u);
  EXPECT_EQ(s.data_end, 130u);
  // A negative i32.const is the u32 address it stands for.
  bytes_t high = {0x0b, 0x07, 0x01, 0x00, 0x41, 0x7e, 0x0b, 0x01, 'x'};
  EXPECT_EQ(summarize(header + memory + high).data_end, 0xffffffffu);
  // Another offset expression (global.get) ends the walk, keeping what was read.
  bytes_t global = {0x0b, 0x0b, 0x02, 0x00, 0x41, 0x04, 0x0b, 0x01, 'a', 0x00, 0x23, 0x00, 0x0b};
  EXPECT_EQ(summarize(header + memory + global).data_end, 5u);
}

// Where asyncify's buffer may start below a shadow stack: wasm-ld's two layouts, and what is no
// stack at all.
TEST(wasm_summary, the_stack_region_follows_wasm_ld_layouts) {
  auto s = summarize(header + types + functions + memory + code + data);
  EXPECT_TRUE(s.complete);
  EXPECT_FALSE(s.data_unplaced);
  EXPECT_EQ(s.data_start, 16u);
  EXPECT_EQ(stack_floor(s, 16), 16u);                    // --stack-first: nothing below the stack
  EXPECT_EQ(stack_floor(s, 8), 16u);
  EXPECT_EQ(stack_floor(s, 200), 144u);                  // [data][stack]: above the data, aligned
  EXPECT_EQ(stack_floor(s, 1 << 20), (1u << 20) - 65536);  // at most wasm-ld's 64 KiB default
  EXPECT_FALSE(stack_floor(s, 100));                     // the data straddles the stack's start
  bytes_t global = {0x0b, 0x0b, 0x02, 0x00, 0x41, 0x04, 0x0b, 0x01, 'a', 0x00, 0x23, 0x00, 0x0b};
  auto unplaced = summarize(header + memory + global);
  EXPECT_TRUE(unplaced.data_unplaced);
  EXPECT_FALSE(stack_floor(unplaced, 1 << 20));          // a segment wasio cannot place
  EXPECT_EQ(stack_floor(summarize(header), 1 << 20), 16u);  // no data at all
  bytes_t cut = {0x0b, 0x7f, 0x01};                        // a data section cut short
  EXPECT_FALSE(stack_floor(summarize(header + memory + cut), 1 << 20));  // not read through
}

// summarize runs before V8 has seen the bytes: hostile sizes end the walk, never loop or read
// past the end.
TEST(wasm_summary, survives_hostile_sizes) {
  // A section of 2^64 - 11 bytes: r.at + size would wrap back to the section's start.
  bytes_t wraps = {0x01, 0xf5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  EXPECT_FALSE(summarize(header + memory + wraps).own_memory);
  EXPECT_FALSE(import_own_memory(header + memory + wraps, summarize(header + memory + wraps)));
  // A data segment longer than its section, and an offset LEB128 longer than an i32's 5 bytes.
  bytes_t too_long = {0x0b, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x7f, 'x'};
  EXPECT_EQ(summarize(header + memory + too_long).data_end, 0u);
  bytes_t long_leb = {0x0b, 0x0b, 0x01, 0x00, 0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0b, 0x00};
  EXPECT_EQ(summarize(header + memory + long_leb).data_end, 0u);
  EXPECT_FALSE(summarize(bytes_t{}).own_memory);
  EXPECT_FALSE(summarize(header).own_memory);
}

// The edit gives the same bytes in place and in a copy, and V8 compiles them, wherever the
// import section has to go.
TEST(wasm_summary, turns_the_memory_into_an_import_in_place_or_in_a_copy) {
  const std::vector<bytes_t> modules = {
      header + memory,                                         // no import section, nothing else
      header + types + functions + memory + code,              // the import section goes after types
      header + custom + types + custom + functions + memory + custom + code,
      header + types + imports + functions + memory + code,  // one more import
  };
  for (const auto& m : modules) {
    SCOPED_TRACE(::testing::PrintToString(m));
    auto edit = import_own_memory(m, summarize(m));
    ASSERT_TRUE(edit);
    auto copy = byte_buffer::copy_of(std::span(m).subspan(edit->replaces), edit->prefix.size());
    ASSERT_TRUE(copy.replace_front(0, edit->prefix));
    auto edited = summarize(copy.bytes());
    EXPECT_TRUE(edited.imports_memory);
    EXPECT_FALSE(edited.own_memory);
    auto in_place = byte_buffer::copy_of(m, kMemoryImportRoom);
    ASSERT_TRUE(in_place.replace_front(edit->replaces, edit->prefix));
    EXPECT_EQ(text(in_place.bytes()), text(copy.bytes()));
    EXPECT_EQ(compile_error(m), "");  // edits a copy
    auto owned = byte_buffer::copy_of(m, kMemoryImportRoom);
    EXPECT_EQ(compile_error(owned.bytes(), &owned), "");  // edits in place
  }
  EXPECT_FALSE(import_own_memory(header + types, summarize(header + types)));  // no memory: no edit
}

TEST(wasm_summary, edits_a_real_program_which_then_compiles) {
  std::ifstream f(std::string(WASIO_GUESTS) + "/hello.wasm", std::ios::binary);
  bytes_t m{std::istreambuf_iterator<char>(f), {}};
  ASSERT_GT(m.size(), 1000u);
  auto edit = import_own_memory(m, summarize(m));
  ASSERT_TRUE(edit);
  EXPECT_LE(edit->prefix.size(), edit->replaces + kMemoryImportRoom);
  auto owned = byte_buffer::copy_of(m, kMemoryImportRoom);
  auto p = prepare_module(owned.bytes(), &owned, nullptr, mode_choice::fiber);
  EXPECT_EQ(p.error, "");
  ASSERT_TRUE(p.supplied_memory);
  EXPECT_TRUE(p.info.memory_imported);
  EXPECT_GT(p.data_end, 0u);
}

// The imports and exports with their signatures, as the host functions' check and the export
// calls read them: host_types.wat imports three host functions and exports three functions and
// its memory.
TEST(wasm_summary, reads_imports_and_exports_with_their_signatures) {
  std::ifstream f(std::string(WASIO_GUESTS) + "/host_types.wasm", std::ios::binary);
  bytes_t m{std::istreambuf_iterator<char>(f), {}};
  auto s = summarize(m);
  ASSERT_EQ(s.imports.size(), 3u);
  EXPECT_EQ(s.imports[0].module, "host");
  EXPECT_EQ(s.imports[0].name, "wide");
  EXPECT_TRUE(s.imports[0].sig_known);
  EXPECT_EQ(s.imports[0].sig, (func_sig{{0x7e, 0x7f}, {0x7e}}));
  EXPECT_EQ(s.imports[1].sig, (func_sig{{0x7d, 0x7c}, {0x7c}}));
  ASSERT_EQ(s.exports.size(), 4u);
  EXPECT_EQ(s.exports[0].name, "memory");
  EXPECT_EQ(s.exports[0].kind, 2);
  EXPECT_EQ(s.exports[1].name, "call_wide");
  ASSERT_TRUE(s.exports[1].sig);
  EXPECT_EQ(*s.exports[1].sig, (func_sig{{0x7e}, {0x7e}}));  // its own function's type, after the imports
  EXPECT_EQ(*s.exports[2].sig, (func_sig{{0x7f}, {0x7e}}));  // wide_loop
  EXPECT_EQ(*s.exports[3].sig, (func_sig{{0x7d, 0x7c}, {0x7c}}));
  // Cut anywhere, the reader ends without reading past the bytes it has.
  for (size_t n = 0; n < m.size(); ++n) summarize(std::span(m).first(n));
}

}  // namespace
// Shapes fuzz/wasm_summary_fuzz.cpp found: invalid modules the reader must refuse as a whole
// (V8 refuses them next), not read across section bounds or edit into a second import section.
TEST(wasm_summary, refuses_entries_past_their_section_and_sections_out_of_place) {
  // Two imports counted, one in the section: the second would be read from the memory section.
  const bytes_t short_imports = {0x02, 0x07, 0x02, 0x01, 'm', 0x01, 'f', 0x00, 0x00};
  auto s = summarize(header + types + short_imports + functions + memory + code);
  EXPECT_FALSE(s.complete);
  EXPECT_TRUE(s.imports.empty());
  EXPECT_FALSE(s.own_memory);
  for (const bytes_t& m : {header + types + functions + memory + memory + code,   // twice
                           header + types + memory + functions + code,            // out of order
                           header + types + functions + bytes_t{0x5d, 0x00} + memory + code}) {  // unknown id
    auto t = summarize(m);
    EXPECT_FALSE(t.own_memory);
    EXPECT_FALSE(import_own_memory(m, t));
  }
  EXPECT_TRUE(summarize(header + types + functions + memory + custom + code).own_memory);  // custom: anywhere
}

// The asyncify rewrite runs binaryen in a helper process of its own (engine/rewrite_helper.cpp):
// a module it rejects is an error with binaryen's own last words, and the process carries on;
// a valid one is rewritten.
TEST(asyncify_rewrite, binaryen_runs_in_a_helper_and_its_failure_is_a_message) {
  auto bad = header + bytes_t{0x01, 0x7f};  // a type section that ends at once
  auto r = asyncify_rewrite(bad, rewrite_settings{});
  EXPECT_NE(r.error.find("asyncify rewrite: binaryen failed on this module: "), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("pars"), std::string::npos) << r.error;  // its parse error, whatever its words
  EXPECT_EQ(r.error.find('\n'), std::string::npos) << r.error;
  auto good = asyncify_rewrite(header + types + functions + memory + code, rewrite_settings{true, true, {}, {}});
  EXPECT_TRUE(good.error.empty()) << good.error;
  EXPECT_TRUE(good.memory_imported);
}

}  // namespace wasio::engine
