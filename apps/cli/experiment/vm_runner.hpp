#pragma once
// The runner of one VM run: starts its process (a child `ktstr-actors run`), tells the
// orchestrator its pid, waits for it on its own thread, and tells how it ended. A crash
// or hang of that process touches nothing else: the orchestrator signals it by pid.
#include <caf/all.hpp>

#include <functional>
#include <sys/types.h>

#include "apps/cli/experiment/vm_run.hpp"

namespace ktstr::cli {

/// Starts a run's process; throws std::runtime_error when it cannot (e.g. no such program).
using RunLauncher = std::function<pid_t(const VmRun&)>;

/// Spawn detached: vm_runner(self, run, launch, orchestrator).
void vm_runner(caf::blocking_actor* self, VmRun run, RunLauncher launch, caf::actor orchestrator);

}  // namespace ktstr::cli
