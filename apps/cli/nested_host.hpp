#pragma once
// The nested software-KVM host: runs a command inside a QEMU/TCG guest whose emulated
// CPU has AMD SVM, so /dev/kvm exists there (shared/docs/PLATFORM.md §1). The host's
// root filesystem is visible read-only at the same paths; the listed writable
// directories are shared read-write at their own paths; output streams back; the
// command's exit status is carried out.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ktstr::cli {

struct NestedHostOptions {
  std::vector<std::string> command;                 ///< argv, run with the host's PATH
  std::vector<std::filesystem::path> writable;      ///< shared read-write at the same path
  std::filesystem::path cwd;                        ///< default: current directory
  std::vector<std::string> env;                     ///< extra NAME=VALUE for the command
  unsigned timeout_s = 3600;                        ///< whole run, QEMU start to exit
  unsigned memory_mib = 6144;
  unsigned cpus = 2;
  std::optional<std::filesystem::path> kernel;      ///< outer kernel; default: cached Debian 6.1
  std::optional<std::filesystem::path> console_log; ///< outer kernel console; default: a temp
                                                    ///< file, kept only when the run failed
};

/// Why the nested host cannot run here (no qemu-system-x86_64, no cached kernel or
/// modules, no nested-init binary), or nullopt when it can.
std::optional<std::string> nested_host_unavailable(const NestedHostOptions& options);

struct NestedHostResult {
  int exit_status = 0;        ///< the command's exit status (128+N when killed by signal N)
  bool timed_out = false;     ///< the time bound ended the run
  std::string failure;        ///< non-empty when the outer guest failed before/after the command
  int interrupted_by = 0;     ///< SIGINT/SIGTERM/SIGHUP that made us stop the run, else 0
  /// The outer kernel panicked or wedged (all-CPU soft lockup): ended at once.
  std::optional<std::string> broken;
  std::filesystem::path console_log;
};

/// Boots the outer guest, runs the command, streams its output to our stdout/stderr.
NestedHostResult nested_host_exec(const NestedHostOptions& options);

}  // namespace ktstr::cli
