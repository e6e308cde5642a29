#pragma once
// `run` without a usable /dev/kvm: the same command re-run inside the nested software-KVM
// host (nested_host.hpp) with --host=kvm.
#include <filesystem>

#include "apps/cli/run_command.hpp"

namespace ktstr::cli {

/// Re-runs the command described by `options` inside the nested host; returns the process
/// exit code (exit_codes.hpp). `options` has its paths made absolute by run_main; `kernel`
/// is the resolved kernel file; `extra_s` the scenario's time on top of --timeout.
int run_nested(const RunOptions& options, const std::filesystem::path& kernel, unsigned extra_s);

}  // namespace ktstr::cli
