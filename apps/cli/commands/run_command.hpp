#pragma once
// `ktstr-actors run`: boot a kernel with a declared topology, compare what the guest
// sees with what was declared, report how the VM ended.
#include "apps/cli/base/environment.hpp"
#include "apps/cli/base/run_options.hpp"

namespace ktstr::cli {

/// Runs the whole job; returns the process exit code (exit_codes.hpp).
int run_main(RunOptions options, const Environment& env);

}  // namespace ktstr::cli
