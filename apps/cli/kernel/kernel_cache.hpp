#pragma once
// Guest kernels in the cache (Environment::cache_dir): scripts/fetch-kernel.sh fills
// kernels/<package>/ and links kernels/default (Debian 6.1) and kernels/linux-<series>.
#include <filesystem>
#include <optional>
#include <string>

namespace ktstr::cli {

/// The bzImage of a kernel in the cache at `cache_dir`: name is a directory under
/// kernels/ ("default", "linux-6.12", a package name). nullopt when absent.
std::optional<std::filesystem::path> cached_kernel(const std::filesystem::path& cache_dir,
                                                   const std::string& name = "default");

/// What `--kernel` names: a file (absolute path), a cached kernel's bzImage, the default
/// kernel's expected path when it is empty (that file may be missing: scripts/setup.sh
/// fetches it), or an empty path for a name that is neither a file nor cached.
std::filesystem::path resolve_kernel(const std::string& kernel, const std::filesystem::path& cache_dir);

/// lib/modules/<release>/kernel of an unpacked Debian kernel package, given its bzImage
/// path (<pkg>/boot/vmlinuz-<release>); nullopt when the tree is not there.
std::optional<std::filesystem::path> modules_dir_for(const std::filesystem::path& bzimage);

}  // namespace ktstr::cli
