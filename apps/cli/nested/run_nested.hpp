#pragma once
// `run` without a usable /dev/kvm: the same command re-run inside the nested software-KVM
// host (nested_host.hpp) with --host=kvm. It must behave there as it does here: every
// option reaches the inner run, and every path the user named works (the nested host shows
// the host's files read-only, but not those under /tmp and the other scratch places; the
// directories the run reads from there are shared read-only, those it writes read-write).
#include <filesystem>
#include <string>
#include <vector>

#include "apps/cli/base/environment.hpp"
#include "apps/cli/base/run_options.hpp"

namespace ktstr::cli {

/// What the inner command needs beyond RunOptions, found by the caller.
struct NestedRunInputs {
  std::filesystem::path self;                    ///< this binary, run again in the nested host
  std::filesystem::path kernel;                  ///< the resolved guest kernel file, absolute
  std::vector<std::filesystem::path> also_read;  ///< other files the run reads (absolute): the agent,
                                                 ///< the scheduler's libraries, symlink targets
  bool verbose = false;                          ///< -v: debug logging inside too
};

struct NestedRunCommand {
  std::vector<std::string> argv;                ///< `ktstr-actors [-v] run --host=kvm ...`
  std::vector<std::filesystem::path> readable;  ///< directories of the files it reads
  std::vector<std::filesystem::path> writable;  ///< directories it writes into
};

/// The inner command for `options` (paths already absolute, as run_main makes them):
/// every option as one `--name=value` word (a value starting with '-' cannot pass for an
/// option), the scheduler's arguments last after "--". Looks nothing up.
NestedRunCommand nested_run_command(const RunOptions& options, const NestedRunInputs& inputs);

/// Re-runs the command described by `options` inside the nested host; returns the process
/// exit code (exit_codes.hpp). `options` has its paths made absolute by run_main; `kernel`
/// is the resolved kernel file; `extra_s` the scenario's time on top of --timeout.
/// `env` is this process's environment (the nested host's QEMU, outer kernel, agent);
/// `extra_env` (NAME=VALUE) reaches the inner run; `run_files` are files the run reads that
/// its options do not name (the payloads' programs and libraries), made readable inside.
int run_nested(const RunOptions& options, const std::filesystem::path& kernel, unsigned extra_s,
               const Environment& env, const std::vector<std::string>& extra_env = {},
               const std::vector<std::filesystem::path>& run_files = {});

}  // namespace ktstr::cli
