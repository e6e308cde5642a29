#pragma once
// `ktstr-actors host exec`: run a command inside the nested software-KVM host.
#include "apps/cli/nested/nested_host.hpp"

namespace ktstr::cli {

/// Runs options.command in the nested host and returns the process exit code:
/// the command's own status, exit_no_host (70) when no nested host can run here,
/// exit_nested_timeout (75) when the time bound ended it, exit_usage (64) for bad
/// options or a working directory the command cannot enter there, exit_nested_host_failed
/// (79) when the outer guest failed around the command, exit_vmm_error (73) when it could
/// not be set up.
int host_exec_main(const NestedHostOptions& options);

}  // namespace ktstr::cli
