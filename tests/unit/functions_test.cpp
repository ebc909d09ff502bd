// The function table (src/wasi/functions.hpp), the one list of what wasio serves: its rows are
// well formed, each has a thunk, the asyncify lists follow it, and docs/status.md lists the same
// functions. (That each is exported under both module names with the witx's types is checked by
// running tests/guests/all_imports.wat.)
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <string>

#include "engine/imports.hpp"
#include "src/wasi/functions.hpp"

namespace wasio {
namespace {

TEST(function_table, has_the_46_functions_of_preview1_under_both_module_names) {
  std::set<std::string_view> standard;
  for (const auto& f : wasi::functions) {
    if (!f.standard) continue;
    standard.insert(f.name);
    for (auto m : {wasi::preview1, wasi::unstable}) {
      EXPECT_NE(wasi::row_index(f.name, m), wasi::kNoRow) << f.name << " in " << engine::module_name(m);
    }
  }
  EXPECT_EQ(standard.size(), 46u);
}

TEST(function_table, every_row_is_well_formed_and_has_a_thunk) {
  std::set<std::pair<std::string_view, int>> seen;
  for (size_t i = 0; i < std::size(wasi::functions); ++i) {
    const auto& f = wasi::functions[i];
    EXPECT_NE(engine::thunk_of(i), nullptr) << f.name;
    for (int m : {wasi::preview1, wasi::unstable}) {
      if (f.modules & m) EXPECT_TRUE(seen.insert({f.name, m}).second) << f.name << ": served twice";
    }
    wasi::arg_spec a, prev;
    bool optional_seen = false;
    for (wasi::arg_reader r(f.params); r.next(a); prev = a) {
      EXPECT_NE(a.kind, wasi::arg_kind::invalid) << f.name << ": " << a.name;
      EXPECT_FALSE(a.name.empty()) << f.name;
      // A length follows what it measures, and only that.
      bool measured = prev.kind == wasi::arg_kind::str || prev.kind == wasi::arg_kind::iovs ||
                      prev.kind == wasi::arg_kind::buf;
      EXPECT_EQ(a.kind == wasi::arg_kind::len, measured) << f.name << ": " << a.name;
      EXPECT_TRUE(a.optional || !optional_seen) << f.name << ": optional parameters come last";
      optional_seen |= a.optional;
    }
  }
}

TEST(function_table, the_asyncify_lists_follow_it) {
  std::string blocking = engine::asyncify_import_list(), all = engine::asyncify_import_list(true);
  for (const auto& f : wasi::functions) {
    for (auto m : {wasi::preview1, wasi::unstable}) {
      if (!(f.modules & m)) continue;
      std::string item = std::string(engine::module_name(m)) + "." + std::string(f.name);
      auto listed = [&](const std::string& list) { return ("," + list + ",").find("," + item + ",") != std::string::npos; };
      EXPECT_TRUE(listed(all)) << item;
      EXPECT_EQ(listed(blocking), f.blocking) << item;
    }
  }
}

// docs/status.md has a row for each of the 46 and names each function of the socket extension.
TEST(function_table, docs_status_lists_the_same_functions) {
  std::ifstream in(std::string(WASIO_SOURCE_DIR) + "/docs/status.md");
  std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(doc.empty());
  std::set<std::string> rows;
  std::regex row(R"(\n\| ([a-z_0-9, ]+) \|)");
  for (std::sregex_iterator it(doc.begin(), doc.end(), row), end; it != end; ++it) {
    std::string names = (*it)[1];
    if (names == "function") continue;
    for (size_t at = 0; at < names.size();) {
      size_t comma = names.find(", ", at);
      rows.insert(names.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
      at = comma == std::string::npos ? names.size() : comma + 2;
    }
  }
  std::set<std::string> standard;
  for (const auto& f : wasi::functions) {
    if (f.standard) {
      standard.insert(std::string(f.name));
    } else if (!f.name.ends_with("_v2")) {
      EXPECT_NE(doc.find("`" + std::string(f.name) + "`"), std::string::npos) << f.name;
    }
  }
  EXPECT_EQ(rows, standard);
}

}  // namespace
}  // namespace wasio
