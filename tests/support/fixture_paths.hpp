#pragma once
// Where the prebuilt fixtures live: $KTSTR_FIXTURES, else <source>/../shared/fixtures.
// Dependency-free, so every test executable (the guest_kernel tests too) finds them alike.
#include <cstdlib>
#include <filesystem>
#include <optional>

namespace ktstr::test {

inline std::filesystem::path fixtures_dir() {
  const char* env = std::getenv("KTSTR_FIXTURES");
  return env && *env ? std::filesystem::path(env) : std::filesystem::path(KTSTR_SOURCE_DIR) / ".." / "shared" / "fixtures";
}

/// The sched_ext fixture kernel's bzImage, or nullopt when it is not there.
inline std::optional<std::filesystem::path> fixture_bzimage() {
  const auto kernel = fixtures_dir() / "kernels" / "linux-6.12.117-scx" / "bzImage";
  std::error_code ec;
  if (!std::filesystem::exists(kernel, ec)) return std::nullopt;
  return kernel;
}

}  // namespace ktstr::test
