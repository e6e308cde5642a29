#pragma once
// The two real kernels the guest_kernel tests read: the sched_ext fixture (6.12.117-scx,
// gzip payload, System.map.xz beside it) and the Debian 6.1 kernel scripts/fetch-kernel.sh
// puts in the cache (xz payload). Each is decompressed once per test process. A test
// whose kernel is missing WARNs "test not run: ..." (ctest counts it skipped).
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "kvm/bzimage.hpp"
#include "kvm/guest_kernel/kernel_elf.hpp"
#include "kvm/guest_kernel/kernel_payload.hpp"
#include "tests/support/fixture_paths.hpp"

namespace ktstr::test {

struct KernelFiles {
  std::filesystem::path bzimage, system_map;
};

inline std::optional<KernelFiles> scx_fixture_kernel() {
  const auto dir = fixtures_dir() / "kernels" / "linux-6.12.117-scx";
  std::error_code ec;
  if (!std::filesystem::exists(dir / "bzImage", ec) || !std::filesystem::exists(dir / "System.map.xz", ec)) return std::nullopt;
  return KernelFiles{dir / "bzImage", dir / "System.map.xz"};
}

inline std::optional<KernelFiles> debian_kernel() {
  const char* home = std::getenv("HOME");
  const auto boot = std::filesystem::path(home && *home ? home : "/root") / ".cache" / "ktstr-actors" / "kernels" / "default" / "boot";
  std::error_code ec;
  if (!std::filesystem::is_directory(boot, ec)) return std::nullopt;
  for (const auto& e : std::filesystem::directory_iterator(boot, ec))
    if (e.path().filename().string().starts_with("vmlinuz-")) return KernelFiles{e.path(), {}};
  return std::nullopt;
}

/// The decompressed payload ELF of `bzimage`, decompressed once per process.
inline const guest_kernel::KernelElf& payload_elf(const std::filesystem::path& bzimage) {
  static std::map<std::string, std::unique_ptr<guest_kernel::KernelElf>> cache;
  auto& slot = cache[bzimage.string()];
  if (!slot) slot = std::make_unique<guest_kernel::KernelElf>(guest_kernel::extract_payload(kvm::BzImage::load(bzimage)).bytes);
  return *slot;
}

}  // namespace ktstr::test
