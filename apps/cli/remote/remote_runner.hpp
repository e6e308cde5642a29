#pragma once
// The client's runner of one VM run on a remote worker: offers the job, sends the files the
// worker lacks (by content, one piece at a time, each acknowledged), starts it, writes the
// run's output lines to out_dir/run.log and its result files under out_dir as they come, and
// tells the orchestrator how it ended (vm_run_started / vm_run_ended, `lost` when the worker
// refused it, went away, was cut off or stopped answering). stop_atom from the orchestrator
// cancels the job on the worker.
#include <caf/all.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "messages/worker.hpp"

namespace ktstr::cli {

struct RemoteRun {
  uint64_t index = 0;                                  ///< the run's index (vm_run_* messages)
  std::string where;                                   ///< "worker HOST:PORT"
  caf::actor worker;
  msg::vm_job job;
  std::map<std::string, std::filesystem::path> files;  ///< sha256 -> the file here
  std::filesystem::path out_dir;
  std::chrono::seconds silence{600};                   ///< no word from the worker this long: lost
};

/// Spawn detached: remote_runner(self, run, orchestrator).
void remote_runner(caf::blocking_actor* self, RemoteRun run, caf::actor orchestrator);

}  // namespace ktstr::cli
