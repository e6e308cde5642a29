#include "apps/cli/kernel/kernel_cache.hpp"

namespace ktstr::cli {

namespace fs = std::filesystem;

std::optional<fs::path> cached_kernel(const fs::path& cache_dir, const std::string& name) {
  std::error_code ec;
  fs::path boot = cache_dir / "kernels" / name / "boot";
  for (const auto& entry : fs::directory_iterator(boot, ec))
    if (entry.path().filename().string().rfind("vmlinuz-", 0) == 0) return entry.path();
  fs::path flat = cache_dir / "kernels" / name / "bzImage";  // kernels built by `kernel build`
  if (fs::is_regular_file(flat, ec)) return flat;
  return std::nullopt;
}

std::optional<fs::path> modules_dir_for(const fs::path& bzimage) {
  const std::string file = bzimage.filename().string();
  if (file.rfind("vmlinuz-", 0) != 0) return std::nullopt;
  fs::path dir = bzimage.parent_path().parent_path() / "lib" / "modules" / file.substr(8) / "kernel";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return std::nullopt;
  return dir;
}

std::filesystem::path resolve_kernel(const std::string& kernel, const std::filesystem::path& cache_dir) {
  namespace fs = std::filesystem;
  if (kernel.empty()) {
    if (auto k = cached_kernel(cache_dir, "default")) return *k;
    return cache_dir / "kernels" / "default" / "boot" / "vmlinuz (missing: run scripts/setup.sh)";
  }
  std::error_code ec;
  if (fs::exists(kernel, ec) || kernel.find('/') != std::string::npos) return fs::absolute(kernel);
  if (auto k = cached_kernel(cache_dir, kernel)) return *k;
  return {};  // a name that is neither a file here nor a cached kernel
}

}  // namespace ktstr::cli
