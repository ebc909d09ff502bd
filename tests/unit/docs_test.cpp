// The examples in README.md and docs/embedding.md are compiled: every line of each fenced
// example appears, in order (lines may be left out between), in a source the test suite builds
// and runs. Whitespace runs count as one space.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

const std::string root = WASIO_SOURCE_DIR;

std::string normalized(const std::string& line) {
  std::string out;
  for (char c : line) {
    bool space = c == ' ' || c == '\t';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream f(root + "/" + path);
  EXPECT_TRUE(f) << path;
  std::vector<std::string> out;
  for (std::string l; std::getline(f, l);) out.push_back(normalized(l));
  return out;
}

// The fenced blocks (```cpp or ```cmake) of a markdown file.
std::vector<std::vector<std::string>> examples_of(const std::string& path) {
  std::vector<std::vector<std::string>> blocks;
  bool in = false;
  for (const auto& l : lines_of(path)) {
    if (!in && (l == "```cpp" || l == "```cmake")) {
      in = true;
      blocks.emplace_back();
    } else if (in && l == "```") {
      in = false;
    } else if (in && !l.empty()) {
      blocks.back().push_back(l);
    }
  }
  return blocks;
}

bool in_order_in(const std::vector<std::string>& block, const std::vector<std::string>& source) {
  size_t at = 0;
  for (const auto& l : block) {
    while (at < source.size() && source[at] != l) ++at;
    if (at == source.size()) return false;
    ++at;
  }
  return true;
}

TEST(docs, every_example_is_in_a_compiled_source) {
  const std::vector<std::string> compiled = {"tests/consumer/main.cpp", "tests/consumer/CMakeLists.txt",
                                             "samples/plugin_server.cpp", "samples/echo_server.cpp",
                                             "tests/unit/embedding_test.cpp"};
  for (const char* doc : {"README.md", "docs/embedding.md"}) {
    auto blocks = examples_of(doc);
    EXPECT_FALSE(blocks.empty()) << doc;
    for (const auto& b : blocks) {
      bool found = false;
      for (const auto& src : compiled) found |= in_order_in(b, lines_of(src));
      EXPECT_TRUE(found) << doc << ": the example starting '" << b.front()
                         << "' is not, line for line, in a source the tests compile";
    }
  }
}

}  // namespace
