#pragma once
// The environment variables ktstr-actors reads, in one place. main() reads them once
// (Environment::from_process) and each command passes on what its parts need; nothing
// below the command layer calls getenv. (PATH is the exception: child processes are
// found the way exec finds them.)
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace ktstr::cli {

struct Environment {
  /// The cache of kernels and QEMU: $KTSTR_CACHE, else $XDG_CACHE_HOME/ktstr-actors,
  /// else $HOME/.cache/ktstr-actors (/root without HOME).
  std::filesystem::path cache_dir;
  std::optional<std::string> kvm_device;           ///< KTSTR_KVM_DEVICE: the device run and host probe use (tests)
  std::optional<std::filesystem::path> qemu;       ///< KTSTR_QEMU: the nested host's QEMU, no fallback
  std::optional<std::filesystem::path> agent;      ///< KTSTR_AGENT: the guest agent put into images
  std::optional<std::string> nested_append;        ///< KTSTR_NESTED_APPEND: extra outer-kernel arguments
  std::optional<std::filesystem::path> nested_monitor;  ///< KTSTR_NESTED_MONITOR: QEMU monitor socket
  std::optional<std::string> outer_probe;          ///< KTSTR_OUTER_HOST_PROBE: the outer run's probe (untrusted)
  bool inside_nested_host = false;                 ///< set by the nested host's init for its job

  /// From a lookup that returns a variable's value or nullptr; an empty value counts as unset.
  static Environment from(const std::function<const char*(const char*)>& lookup);
  /// From this process's environment.
  static Environment from_process();
};

/// Names of the variables that pass information from one ktstr-actors to another.
inline constexpr const char* kOuterProbeEnv = "KTSTR_OUTER_HOST_PROBE";

}  // namespace ktstr::cli
