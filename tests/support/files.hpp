#pragma once
// Test helpers for files: one place for them (tests/support).
#include <filesystem>
#include <string>

#include "apps/cli/base/read_file.hpp"

namespace ktstr::test {

/// The whole file, "" when it cannot be read (cli::read_file, for assertions).
inline std::string slurp(const std::filesystem::path& path) { return cli::read_file(path).value_or(""); }

}  // namespace ktstr::test
