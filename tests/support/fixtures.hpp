#pragma once
// The sched_ext kernel and schedulers the scx tests need: a kernel built by
// `ktstr-actors kernel build` (in the cache, with its schedulers), else the prebuilt
// fixtures beside the project ($KTSTR_FIXTURES, default <source>/../shared/fixtures).
// When neither exists the test is reported as skipped (ctest SKIP_RETURN_CODE), never
// as passed.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "apps/cli/base/environment.hpp"
#include "apps/cli/kernel/kernel_cache.hpp"
#include "tests/support/fixture_paths.hpp"

namespace ktstr::test {

/// ctest counts a test that exits with this code as skipped (tests/CMakeLists.txt).
inline constexpr int kSkipExitCode = 200;

struct ScxFixture {
  std::filesystem::path kernel;
  std::filesystem::path schedulers;  ///< directory with scx_simple, scx_central, ...
};

inline std::optional<ScxFixture> find_scx_fixture() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path built = cli::Environment::from_process().cache_dir / "kernels";
  if (fs::is_directory(built, ec))
    for (const auto& entry : fs::directory_iterator(built, ec)) {
      const auto dir = entry.path();
      if (dir.filename().string().ends_with("-scx") && fs::exists(dir / "bzImage") && fs::exists(dir / "sched" / "scx_simple"))
        return ScxFixture{dir / "bzImage", dir / "sched"};
    }
  const fs::path fixtures = fixtures_dir();
  const fs::path kernel = fixtures / "kernels" / "linux-6.12.117-scx" / "bzImage";
  if (fs::exists(kernel, ec) && fs::exists(fixtures / "scx" / "scx_simple", ec))
    return ScxFixture{fs::canonical(kernel), fs::canonical(fixtures / "scx")};
  return std::nullopt;
}

/// Ends this test process as "skipped" with the reason on stderr.
[[noreturn]] inline void skip_test(const std::string& why) {
  std::fprintf(stderr, "SKIPPED: %s\n", why.c_str());
  std::fflush(nullptr);
  std::_Exit(kSkipExitCode);
}

/// The fixture, or this test ends as skipped naming what is missing.
inline ScxFixture require_scx_fixture() {
  auto fixture = find_scx_fixture();
  if (!fixture) skip_test("no sched_ext kernel: neither `kernel build` output nor shared/fixtures");
  return *fixture;
}

}  // namespace ktstr::test
