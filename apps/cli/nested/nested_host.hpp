#pragma once
// The nested software-KVM host: runs a command inside a QEMU/TCG guest whose emulated
// CPU has AMD SVM, so /dev/kvm exists there (shared/docs/PLATFORM.md §1). The host's
// root filesystem is visible read-only at the same paths, except its scratch places
// (nested::hidden_dirs: /tmp, /var/tmp, /run, /dev/shm), which get a fresh tmpfs there;
// the listed writable directories are shared read-write at their own paths, and readable
// ones (and the working directory) under a hidden place read-only; output streams back;
// the command's exit status is carried out.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "apps/cli/base/environment.hpp"
#include "apps/protocol/nested_job.hpp"

namespace ktstr::cli {

struct NestedHostOptions {
  std::vector<std::string> command;                 ///< argv, run with the host's PATH
  std::vector<std::filesystem::path> writable;      ///< shared read-write at the same path
  std::vector<std::filesystem::path> readable;      ///< directories the command reads: shared read-only
                                                    ///< where the nested host would not show them
  std::filesystem::path cwd;                        ///< default: current directory
  std::vector<std::string> env;                     ///< extra NAME=VALUE for the command
  unsigned timeout_s = 3600;                        ///< whole run, QEMU start to exit
  unsigned memory_mib = 6144;
  unsigned cpus = 2;
  std::optional<std::filesystem::path> kernel;      ///< outer kernel; default: cached Debian 6.1
  std::optional<std::filesystem::path> console_log; ///< outer kernel console; default: a temp
                                                    ///< file, kept only when the run failed
  Environment environment;                          ///< the cache, QEMU and debugging knobs ($KTSTR_NESTED_*)
};

/// Why the nested host cannot run here (no qemu-system-x86_64, no cached kernel or
/// modules, no nested-init binary), or nullopt when it can.
std::optional<std::string> nested_host_unavailable(const NestedHostOptions& options);

struct NestedHostResult {
  int exit_status = 0;        ///< the command's exit status (128+N when killed by signal N)
  bool timed_out = false;     ///< the time bound ended the run
  std::string failure;        ///< non-empty when the outer guest failed before/after the command
  /// The command could not be started as given (its working directory is not there):
  /// the caller's problem, not the nested host's (failure stays empty).
  std::optional<std::string> refused;
  int interrupted_by = 0;     ///< SIGINT/SIGTERM/SIGHUP that made us stop the run, else 0
  /// The outer kernel panicked or wedged (all-CPU soft lockup): ended at once.
  std::optional<std::string> broken;
  std::filesystem::path console_log;
};

/// One directory shared into the nested host: mounted at share.path there, showing the
/// host directory `host` (canonical).
struct PlannedShare {
  nested::Share share;
  std::filesystem::path host;
};

/// The shares a job needs. Every writable directory is shared read-write; every readable
/// directory, and `cwd`, read-only when the nested host would otherwise not show it (it
/// lies under nested::hidden_dirs) and no other share shows it already. A share is mounted
/// where the command will look: at the path as given when that one is hidden, else where
/// it leads (symlinks resolved). Relative paths are taken from `cwd`. A readable directory
/// that does not exist is left out (the command then fails as it would on the host). A
/// writable one that does not exist, or "/", is an error: its text is returned.
std::optional<std::string> plan_shares(const NestedHostOptions& options, const std::filesystem::path& cwd,
                                       std::vector<PlannedShare>& shares);

/// Boots the outer guest, runs the command, streams its output to our stdout/stderr.
NestedHostResult nested_host_exec(const NestedHostOptions& options);

}  // namespace ktstr::cli
