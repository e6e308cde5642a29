#pragma once
// Test helpers for files: one place for them (tests/support).
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace ktstr::test {

/// The whole file, "" when it cannot be read.
inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace ktstr::test
