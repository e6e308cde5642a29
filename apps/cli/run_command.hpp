#pragma once
// `ktstr-actors run`: boot a kernel with a declared topology, compare what the guest
// sees with what was declared, report how the VM ended.
#include <filesystem>
#include <optional>
#include <string>

namespace ktstr::cli {

enum class HostMode { automatic, kvm, nested };

struct RunOptions {
  std::string kernel;                   ///< path or cached kernel name; empty = default
  std::string topology = "1,1,2,1";
  uint64_t memory_mib = 512;
  unsigned timeout_s = 120;
  std::optional<std::filesystem::path> json;
  std::optional<std::filesystem::path> out_dir;  ///< logs, initramfs, result.json
  HostMode host = HostMode::automatic;
  std::string append;                   ///< extra kernel command-line arguments
};

/// Runs the whole job; returns the process exit code (exit_codes.hpp).
int run_main(RunOptions options);

}  // namespace ktstr::cli
