#pragma once
// The worker side: checkpoints, publishing into the slot, the small system helpers the
// work types share.
#include <atomic>
#include <cstdint>
#include <string>

#include "apps/protocol/plan.hpp"
#include "worker_slot.hpp"

namespace ktstr::agent {

int64_t mono_ns();
/// FUTEX_WAIT (shared) while *word == expected, at most timeout_ns. Returns on wake,
/// timeout, signal or mismatch.
void futex_wait(std::atomic<uint32_t>* word, uint32_t expected, int64_t timeout_ns);
void futex_wake(std::atomic<uint32_t>* word, int count);

/// What the forked worker needs; pointers are valid in the child (created before fork).
struct WorkerLaunch {
  protocol::WorkerSpec spec;
  std::string cgroup_procs;  ///< "" : stay in the agent's cgroup
  uint32_t checkpoint_us = 1000;
  std::vector<int> usable_cpus;
  WorkerSlot* slot = nullptr;
  PairShared* pair = nullptr;  ///< futex_pingpong
  int pipe_in = -1, pipe_out = -1;  ///< pipe_pingpong
  bool initiator = false;           ///< ping-pong: the lower id sends first
};

class WorkerContext {
 public:
  WorkerContext(WorkerSlot* slot, uint32_t checkpoint_us);

  bool stopping() const { return slot_->stop.load(std::memory_order_relaxed) != 0; }
  void begin();
  void finish();

  /// Cheap: call after every small unit of spinning; checkpoints every checkpoint_us.
  void maybe_checkpoint() {
    int64_t now = mono_ns();
    if (now - slot_->gap.last_ns >= checkpoint_ns_) checkpoint(now);
  }
  void checkpoint(int64_t now);
  /// After a voluntary block that should have ended at expected_ns (timer expiry, the
  /// partner's post): records the wake latency and checkpoints, the block is no gap.
  void woke(int64_t expected_ns, bool measure_latency = true);
  void add_units(uint64_t n = 1) { slot_->work_units += n; }
  /// The worker changed its own affinity: the new mask applies at once, no grace.
  void refresh_mask_now(int64_t now);
  WorkerSlot* slot() { return slot_; }

 private:
  void slow_tick(int64_t now);
  void read_mask();

  WorkerSlot* slot_;
  int64_t checkpoint_ns_;
  int64_t last_slow_ns_ = 0;
  uint32_t seen_gen_ = 0;
  CpuBits allowed_;
};

/// Spins one unit of work (about a microsecond of arithmetic).
void spin_unit();
/// Spins units until wall time `until_ns` or stop, checkpointing; returns units done.
uint64_t spin_until(WorkerContext& ctx, int64_t until_ns);

/// Runs the work type until the stop flag (worker_types_*.cpp).
void run_work(WorkerContext& ctx, const WorkerLaunch& launch);

}  // namespace ktstr::agent
