#include "engine/disk_cache.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <vector>

#include "async/unique_fd.hpp"

namespace wasio::engine {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kSuffix = ".wasio-cache";

std::string default_dir() {
  if (const char* d = std::getenv("WASIO_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/wasio";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/wasio";
  return {};
}

}  // namespace

std::shared_ptr<const disk_cache> disk_cache::open(const std::string& dir, uint64_t max_bytes) {
  const char* env = std::getenv("WASIO_CACHE");
  if (dir == "off" || (env && std::string_view(env) == "off") || max_bytes == 0) return nullptr;
  std::string d = dir.empty() ? default_dir() : dir;
  if (d.empty()) return nullptr;
  std::error_code ec;
  fs::create_directories(d, ec);
  if (ec || ::access(d.c_str(), W_OK | X_OK) != 0) return nullptr;
  return std::shared_ptr<const disk_cache>(new disk_cache(d, max_bytes));
}

std::string disk_cache::key(std::initializer_list<std::span<const uint8_t>> parts) {
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  for (auto p : parts) {
    uint64_t len = p.size();
    EVP_DigestUpdate(ctx.get(), &len, sizeof len);
    EVP_DigestUpdate(ctx.get(), p.data(), p.size());
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &n);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

std::string disk_cache::path_of(const std::string& key) const { return dir_ + "/" + key + std::string(kSuffix); }

std::optional<byte_buffer> disk_cache::get(const std::string& key) const {
  async::unique_fd fd(::open(path_of(key).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  auto data = byte_buffer::read_file(fd.get());
  if (data) ::futimens(fd.get(), nullptr);  // used now: the last to be evicted
  return data;
}

void disk_cache::put(const std::string& key, std::string_view value) const {
  std::string tmp = dir_ + "/.tmp-" + std::to_string(::getpid()) + "-" + std::to_string(std::random_device{}());
  {
    async::unique_fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd) return;
    if (!async::write_all(fd.get(), value.data(), value.size())) {
      ::unlink(tmp.c_str());
      return;
    }
  }
  if (::rename(tmp.c_str(), path_of(key).c_str()) != 0) {
    ::unlink(tmp.c_str());
    return;
  }
  evict();
}

void disk_cache::drop(const std::string& key) const { ::unlink(path_of(key).c_str()); }

void disk_cache::evict() const {
  struct entry {
    fs::path path;
    fs::file_time_type used;
    uint64_t size;
  };
  std::vector<entry> entries;
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (e.path().extension() != kSuffix) continue;  // only ours; stale temporaries are tiny
    std::error_code ec2;
    uint64_t size = e.file_size(ec2);
    auto used = e.last_write_time(ec2);
    if (ec2) continue;
    entries.push_back({e.path(), used, size});
    total += size;
  }
  if (total <= max_bytes_) return;
  std::sort(entries.begin(), entries.end(), [](const entry& a, const entry& b) { return a.used < b.used; });
  // Down to 90% of the bound, so that the next stores do not each scan again.
  for (const auto& e : entries) {
    if (total <= max_bytes_ / 10 * 9) break;
    if (fs::remove(e.path, ec)) total -= e.size;
  }
}

}  // namespace wasio::engine
