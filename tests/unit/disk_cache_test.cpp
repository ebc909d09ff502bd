// The disk cache of rewritten modules (engine/disk_cache.hpp), on a real temporary directory,
// and through a real runtime.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <asio/use_future.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/disk_cache.hpp"
#include "wasio/wasio.hpp"

namespace wasio::engine {
namespace {

namespace fs = std::filesystem;

struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("wasio-cache-test-" + std::to_string(::getpid()) + "-" +
                                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  temp_dir() { fs::remove_all(path); }
  ~temp_dir() { fs::remove_all(path); }
};

std::span<const uint8_t> bytes_of(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// An entry's value as text; "" when there is none.
std::string text(const std::optional<byte_buffer>& v) {
  return v ? std::string(v->bytes().begin(), v->bytes().end()) : "";
}

size_t entries(const fs::path& dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".wasio-cache";
  return n;
}

TEST(disk_cache, keys_depend_on_every_part_and_its_boundaries) {
  auto k = disk_cache::key({bytes_of("ab"), bytes_of("c")});
  EXPECT_EQ(k.size(), 64u);
  EXPECT_EQ(k, disk_cache::key({bytes_of("ab"), bytes_of("c")}));
  EXPECT_NE(k, disk_cache::key({bytes_of("a"), bytes_of("bc")}));
  EXPECT_NE(k, disk_cache::key({bytes_of("ab"), bytes_of("d")}));
}

TEST(disk_cache, stores_reads_and_drops) {
  temp_dir d;
  auto c = disk_cache::open(d.path.string(), 1 << 20);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->get("k1"));
  c->put("k1", "value one");
  EXPECT_EQ(text(c->get("k1")), "value one");
  c->put("k1", "value two");  // replaced whole
  EXPECT_EQ(text(c->get("k1")), "value two");
  c->drop("k1");
  EXPECT_FALSE(c->get("k1"));
  EXPECT_EQ(fs::status(d.path).type(), fs::file_type::directory);
}

TEST(disk_cache, can_be_disabled) {
  temp_dir d;
  EXPECT_FALSE(disk_cache::open("off", 1 << 20));
  EXPECT_FALSE(disk_cache::open(d.path.string(), 0));
  ::setenv("WASIO_CACHE", "off", 1);
  EXPECT_FALSE(disk_cache::open(d.path.string(), 1 << 20));
  ::unsetenv("WASIO_CACHE");
  EXPECT_FALSE(disk_cache::open("/proc/no/such/place", 1 << 20));  // cannot be made: no cache
}

TEST(disk_cache, least_recently_used_entries_go_beyond_the_bound) {
  temp_dir d;
  auto c = disk_cache::open(d.path.string(), 10'000);
  ASSERT_TRUE(c);
  std::string kb(1000, 'x');
  for (int i = 0; i < 9; ++i) c->put("k" + std::to_string(i), kb);
  // Entry 0 is read now, so the oldest unused ones go first once the bound is passed.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(c->get("k0"));
  for (int i = 9; i < 14; ++i) c->put("k" + std::to_string(i), kb);
  EXPECT_LE(entries(d.path), 10u);
  EXPECT_TRUE(c->get("k0"));
  EXPECT_TRUE(c->get("k13"));
  EXPECT_FALSE(c->get("k1"));
}

TEST(disk_cache, concurrent_writers_leave_a_whole_entry) {
  temp_dir d;
  auto c = disk_cache::open(d.path.string(), 1 << 30);
  ASSERT_TRUE(c);
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) c->put("same", std::string(100'000, static_cast<char>('a' + t)));
    });
  }
  for (auto& t : ts) t.join();
  std::string v = text(c->get("same"));
  ASSERT_EQ(v.size(), 100'000u);
  EXPECT_EQ(v.find_first_not_of(v[0]), std::string::npos);  // one writer's value, whole
  EXPECT_EQ(entries(d.path), 1u);
  size_t temporaries = 0;
  for (const auto& e : fs::directory_iterator(d.path)) temporaries += e.path().extension() != ".wasio-cache";
  EXPECT_EQ(temporaries, 0u);
}

// Through a runtime: the first load stores the rewritten module, a second runtime (another
// process, in effect) uses it, and a damaged entry is rewritten, not trusted.
TEST(disk_cache, runtimes_share_rewritten_modules_and_survive_damaged_entries) {
  temp_dir d;
  const std::string hello = std::string(WASIO_GUESTS) + "/hello.wasm";
  auto run_hello = [&] {
    runtime_options o;
    o.workers = 1;
    o.cache_dir = d.path.string();
    runtime rt(o);
    auto m = rt.load_file(hello);
    if (!m) return m.error();
    config cfg;
    cfg.args = {"hello"};
    cfg.stdio.out = stdio_fd::adopt(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    auto s = rt.async_run(m.value(), std::move(cfg), asio::use_future).get();
    return s.how == exit_status::kind::exited && s.code == 0 ? std::string("ok") : s.message;
  };
  EXPECT_EQ(run_hello(), "ok");
  ASSERT_EQ(entries(d.path), 1u);
  EXPECT_EQ(run_hello(), "ok");
  for (const auto& e : fs::directory_iterator(d.path)) {
    std::ofstream(e.path(), std::ios::binary | std::ios::trunc) << "not a rewritten module";
  }
  EXPECT_EQ(run_hello(), "ok");
  for (const auto& e : fs::directory_iterator(d.path)) EXPECT_GT(fs::file_size(e.path()), 100u);
}

// Automatic mode runs a big module (over 4 MiB: too slow to rewrite now) in asyncify mode once
// its rewrite is cached, unless the rewrite is much bigger than the module: V8 would compile
// all of that again at each start.
TEST(disk_cache, automatic_mode_uses_a_big_modules_cached_rewrite_unless_it_grew_much) {
  if (jspi_available()) GTEST_SKIP() << "automatic mode runs it in JSPI mode on this engine";
  temp_dir d;
  auto load_big = [&](suspension_mode m) {
    runtime_options o;
    o.workers = 1;
    o.cache_dir = d.path.string();
    o.mode = m;
    runtime rt(o);
    return rt.load_file(std::string(WASIO_GUESTS) + "/big.wasm").value();
  };
  auto m = load_big(suspension_mode::automatic);
  EXPECT_EQ(m.mode(), suspension_mode::fiber) << m.mode_reason();
  EXPECT_EQ(entries(d.path), 0u);
  m = load_big(suspension_mode::asyncify);  // rewritten now, and cached
  ASSERT_EQ(entries(d.path), 1u);
  m = load_big(suspension_mode::automatic);
  EXPECT_EQ(m.mode(), suspension_mode::asyncify) << m.mode_reason();
  EXPECT_NE(m.mode_reason().find("cached"), std::string::npos) << m.mode_reason();

  // The entry made 40% bigger, as asyncify makes a module of many small functions that call
  // one another indirectly: its record (four u32s: magic, flags, error length, module length;
  // the error; the module) gets a custom section at the module's end.
  fs::path entry = fs::directory_iterator(d.path)->path();
  std::ifstream in(entry, std::ios::binary);
  std::string record{std::istreambuf_iterator<char>(in), {}};
  in.close();
  uint32_t len;
  std::memcpy(&len, record.data() + 12, 4);
  const uint32_t pad = len * 2 / 5;
  const uint32_t size = pad + 1;  // the name "", then the padding
  std::string section = {'\0', char(0x80 | (size & 0x7f)), char(0x80 | ((size >> 7) & 0x7f)),
                         char(0x80 | ((size >> 14) & 0x7f)), char(size >> 21), '\0'};  // id 0, size, name
  section += std::string(pad, 'x');
  len += static_cast<uint32_t>(section.size());
  std::memcpy(record.data() + 12, &len, 4);
  std::ofstream(entry, std::ios::binary | std::ios::trunc) << record << section;
  m = load_big(suspension_mode::automatic);
  EXPECT_EQ(m.mode(), suspension_mode::fiber) << m.mode_reason();
  EXPECT_NE(m.mode_reason().find("bigger"), std::string::npos) << m.mode_reason();
}

}  // namespace
}  // namespace wasio::engine
