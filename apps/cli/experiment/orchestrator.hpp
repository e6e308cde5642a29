#pragma once
// The orchestrator of an experiment: runs its VM runs at most `jobs` at once, each by a
// vm_runner of its own (a child process: one VM's crash, hang or bad input never takes
// the others down), says on the terminal what each is doing, and hands each ending to
// `on_end` at once (the command streams results to disk there). On a stop request
// (SIGINT/SIGTERM) it starts nothing more, sends SIGTERM to every running run, SIGKILL
// after `stop_grace`, and still reports every run (not run ones as interrupted).
#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <ostream>
#include <vector>

#include "apps/cli/experiment/vm_run.hpp"
#include "apps/cli/experiment/vm_runner.hpp"
#include "messages/atoms.hpp"
#include "messages/experiment.hpp"

namespace ktstr::cli {

struct OrchestratorConfig {
  std::vector<VmRun> runs;
  uint32_t jobs = 1;
  RunLauncher launch;
  /// Called in the orchestrator for each run as it ends (or is skipped by a stop).
  std::function<void(const VmRun&, const msg::vm_run_ended&, bool interrupted)> on_end;
  std::ostream* progress = nullptr;        ///< one line per start and end, and a status now and then
  const std::atomic<bool>* stop = nullptr;  ///< set by a signal handler
  std::chrono::milliseconds tick{200};
  std::chrono::seconds stop_grace{30};      ///< SIGTERM, then SIGKILL after this
  std::chrono::seconds status_every{30};
  caf::actor listener;                      ///< gets experiment_finished
};

struct orchestrator_state {
  OrchestratorConfig config;
  size_t next = 0;                           ///< the next run to start
  std::map<uint64_t, int32_t> running;        ///< index -> pid (0: starting)
  std::map<uint64_t, std::chrono::steady_clock::time_point> started_at;
  size_t ended = 0;
  bool stopping = false;
  std::chrono::steady_clock::time_point stop_began{};
  bool killed = false;
  std::chrono::steady_clock::time_point last_status{};
  static constexpr const char* name = "orchestrator";
};

caf::behavior orchestrator(caf::stateful_actor<orchestrator_state>* self, OrchestratorConfig config);

}  // namespace ktstr::cli
