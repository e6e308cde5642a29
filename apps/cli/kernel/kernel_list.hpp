#pragma once
// `ktstr-actors kernel list`: every kernel in <cache>/kernels/, built by `kernel build`
// (bzImage + config + build.json) or unpacked from a Debian package (boot/vmlinuz-*,
// boot/config-*); aliases (symlinks such as default -> linux-image-...) are shown as such.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ktstr::cli {

struct CachedKernelInfo {
  std::string name;
  std::string alias_of;        ///< the entry a symlink points to; empty for real entries
  std::filesystem::path dir;
  std::optional<std::filesystem::path> bzimage;
  std::string release;         ///< "6.12.117", "6.1.0-31-amd64"; empty when unknown
  std::optional<bool> sched_ext;  ///< CONFIG_SCHED_CLASS_EXT=y; nullopt without a config
  std::string origin;          ///< "built" (kernel build), "debian" or "unknown"
  std::optional<double> build_seconds;
  std::vector<std::string> schedulers;
};

/// Sorted by name; staging directories of running or interrupted builds (".name.tmp-PID")
/// are left out.
std::vector<CachedKernelInfo> list_cached_kernels(const std::filesystem::path& kernels_dir);

/// Prints the table (or JSON with json=true) for the cache at `cache_dir`; returns an exit code.
int kernel_list_main(const std::filesystem::path& cache_dir, bool json);

}  // namespace ktstr::cli
