#pragma once
// `ktstr-actors kernel inspect KERNEL`: what the monitor would know of a kernel image
// (release, payload codec and sizes, symbol source, the KernelLayout item by item) and
// answers to --symbol NAME / --type struct.member.path, as text or one JSON object.
#include <filesystem>
#include <string>
#include <vector>

namespace ktstr::cli {

struct KernelInspectOptions {
  std::string kernel;  ///< a file, or the name of a cached kernel
  std::vector<std::string> symbols;
  std::vector<std::string> types;  ///< "rq.scx.local_dsq.nr", or a struct name for its size
  std::string system_map;
  bool json = false;
};

/// Prints the report; returns an exit code (exit_kernel_image for a missing or bad image).
/// A --symbol or --type the kernel lacks is reported as not found, not refused.
int kernel_inspect_main(const KernelInspectOptions& options, const std::filesystem::path& cache_dir);

}  // namespace ktstr::cli
