#pragma once
// The orchestrator of an experiment: runs its VM runs on local slots (`jobs` at once, each
// by a vm_runner: a child process, so one VM's crash, hang or bad input never takes the
// others down) and on remote workers' slots (each by a remote_runner), says on the terminal
// what each is doing and where, and hands each ending to `on_end` at once (the command
// streams results to disk there). A run its worker lost (gone, cut off, refused) is run
// again elsewhere while it has retries left, else reported lost with the reason; a worker
// that goes away gets nothing more. On a stop request (SIGINT/SIGTERM) it starts nothing
// more, sends SIGTERM to every local run (SIGKILL after `stop_grace`) and a cancel to every
// remote one, and still reports every run (not run ones as interrupted).
#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <vector>

#include "apps/cli/experiment/vm_run.hpp"
#include "apps/cli/experiment/vm_runner.hpp"
#include "apps/cli/remote/remote_runner.hpp"
#include "messages/atoms.hpp"
#include "messages/experiment.hpp"

namespace ktstr::cli {

/// A remote worker's slots, as the orchestrator uses them.
struct WorkerSlots {
  std::string where;  ///< "worker HOST:PORT"
  caf::actor worker;
  uint32_t slots = 1;
};

/// A run as a remote job: nullopt (with `why`) when it cannot go remote.
using RemoteJobMaker = std::function<std::optional<RemoteRun>(const VmRun&, std::string& why)>;

struct OrchestratorConfig {
  std::vector<VmRun> runs;
  uint32_t jobs = 1;                        ///< local slots (0: every run goes to the workers)
  RunLauncher launch;
  std::vector<WorkerSlots> workers;
  RemoteJobMaker remote_job;
  uint32_t retry = 0;                       ///< times a lost run is run again
  /// Called in the orchestrator for each run as it ends (or is skipped by a stop).
  std::function<void(const VmRun&, const msg::vm_run_ended&, bool interrupted, uint32_t attempts)> on_end;
  std::ostream* progress = nullptr;        ///< one line per start and end, and a status now and then
  const std::atomic<bool>* stop = nullptr;  ///< set by a signal handler
  std::chrono::milliseconds tick{200};
  std::chrono::seconds stop_grace{30};      ///< SIGTERM, then SIGKILL after this
  std::chrono::seconds status_every{30};
  caf::actor listener;                      ///< gets experiment_finished
};

struct RunningRun {
  int32_t pid = 0;                   ///< local: its process (0: starting)
  int worker = -1;                   ///< remote: index into workers; -1 local
  caf::actor runner;                 ///< remote: its remote_runner
  std::chrono::steady_clock::time_point started_at{};
};

struct orchestrator_state {
  OrchestratorConfig config;
  std::deque<size_t> pending;                 ///< runs to start, in order (a retried run goes first)
  std::map<uint64_t, RunningRun> running;
  std::map<uint64_t, uint32_t> attempts;
  std::map<uint64_t, std::vector<int>> lost_on;  ///< workers a run was lost on (not tried again there)
  std::vector<uint32_t> worker_busy;
  std::vector<bool> worker_alive;
  uint32_t local_busy = 0;
  size_t ended = 0;
  bool stopping = false;
  std::chrono::steady_clock::time_point stop_began{};
  bool killed = false;
  std::chrono::steady_clock::time_point last_status{};
  static constexpr const char* name = "orchestrator";
};

caf::behavior orchestrator(caf::stateful_actor<orchestrator_state>* self, OrchestratorConfig config);

}  // namespace ktstr::cli
