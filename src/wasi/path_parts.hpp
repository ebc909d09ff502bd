// The parts of a guest path that every directory kind takes apart alike (host_directory.cpp,
// memory_fs.cpp), so that both answer a path the same way.
#pragma once
#include <climits>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "wasio/result.hpp"

namespace wasio::wasi {

// A NUL in a path is inval, an empty one noent, one of PATH_MAX bytes or more nametoolong (the
// kernel's answers).
inline result<void> check_path(std::string_view path) {
  if (path.find('\0') != std::string_view::npos) return errc::inval;
  if (path.empty()) return errc::noent;
  if (path.size() >= PATH_MAX) return errc::nametoolong;
  return ok();
}

// The components of `p` (empty ones, from repeated slashes, left out), put at the front of the
// components still to walk (a symlink's target) or at their end.
inline void push_components(std::deque<std::string>& todo, std::string_view p, bool front) {
  std::vector<std::string> parts;
  for (size_t b = 0, e; b <= p.size(); b = e + 1) {
    e = p.find('/', b);
    if (e == std::string_view::npos) e = p.size();
    if (e > b) parts.emplace_back(p.substr(b, e - b));
  }
  todo.insert(front ? todo.begin() : todo.end(), parts.begin(), parts.end());
}

// For the calls that act on a final name (mkdir, unlink, rename, ...): the directory part to
// resolve and the name in it. Trailing slashes are taken off (`trailing_slash` keeps that they
// asked for a directory); a path ending in "." or ".." names a directory as a whole: `dir` is the
// whole path and `name` is ".".
struct last_name {
  std::string dir;
  std::string name;
  bool trailing_slash = false;
};
inline last_name split_last(std::string_view path) {
  std::string p(path);
  bool trailing_slash = false;
  while (p.size() > 1 && p.back() == '/') {
    p.pop_back();
    trailing_slash = true;
  }
  auto slash = p.rfind('/');
  std::string name = slash == std::string::npos ? p : p.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") return {std::move(p), ".", true};
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : p.substr(0, slash);
  return {std::move(dir), std::move(name), trailing_slash};
}

}  // namespace wasio::wasi
