#pragma once
// The agent's side of the workers: fork and set up (cgroup, nice, policy, affinity),
// two-phase start (ready, then released together), stop (flag + SIGUSR1, SIGKILL after
// 2 s), reaping and the worker_report fields.
#include <sys/resource.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "../agent_channel.hpp"
#include "../cgroups.hpp"
#include "apps/protocol/plan.hpp"
#include "worker_slot.hpp"

namespace ktstr::agent {

struct Reaped {
  pid_t pid;
  int status;
  rusage usage;
};
/// Every exited child of this process, without blocking (wait4(-1, WNOHANG)).
std::vector<Reaped> reap_children();

class WorkerSet {
 public:
  static constexpr int64_t kKillAfterNs = 2'000'000'000;

  struct Worker {
    protocol::WorkerSpec spec;
    std::string cgroup;  ///< where it is now (move_tasks changes it)
    pid_t pid = -1;
    WorkerSlot* slot = nullptr;
    PairShared* pair = nullptr;  ///< owned by the initiator's entry
    std::string launch_error;
    int64_t stop_sent_ns = 0;   ///< 0: no stop requested
    int64_t ended_ns = 0;       ///< reaped (or SIGKILLed) at
    bool killed = false, reaped = false;
    int status = 0;
    rusage usage{};
  };

  WorkerSet(Cgroups* cgroups, uint32_t checkpoint_us, std::vector<int> usable_cpus);
  ~WorkerSet();
  WorkerSet(const WorkerSet&) = delete;
  WorkerSet& operator=(const WorkerSet&) = delete;

  /// Forks a batch (ping-pong partners must be in the same batch); returns their indices.
  std::vector<size_t> launch(const std::vector<protocol::WorkerSpec>& batch);
  /// Waits until each worker is ready or gone, at most timeout_ns. Returns the ones not ready.
  std::vector<size_t> wait_ready(const std::vector<size_t>& which, int64_t timeout_ns);
  /// Releases the workers (they start measuring now).
  void release(const std::vector<size_t>& which);
  /// Stop flag + SIGUSR1; idempotent.
  void request_stop(const std::vector<size_t>& which);
  /// Takes the entries of `reaped` that are workers; SIGKILLs workers not gone 2 s after
  /// their stop.
  void collect(std::vector<Reaped>& reaped);
  /// request_stop + reap/collect until all of `which` ended (at most ~2 s + a bit).
  /// Reaped children that are not workers go to `others` when given.
  void stop_and_wait(const std::vector<size_t>& which, std::vector<Reaped>* others = nullptr);
  /// Workers that ended (or never started) and were not taken yet, in the order they ended:
  /// each one is reported exactly once.
  std::vector<size_t> take_ended();

  /// The worker_report fields (without event/seq). Times relative to t0_ns.
  protocol::WorkerReport report(size_t index, int64_t t0_ns) const;

  std::optional<size_t> find(uint32_t id) const;
  std::vector<size_t> live() const;  ///< not yet ended
  std::vector<size_t> live_in(const std::string& cgroup) const;
  Worker& at(size_t i) { return workers_[i]; }
  size_t size() const { return workers_.size(); }

 private:
  Cgroups* cgroups_;
  uint32_t checkpoint_us_;
  std::vector<int> usable_cpus_;
  std::vector<Worker> workers_;
  std::vector<size_t> ended_order_;
};

}  // namespace ktstr::agent
