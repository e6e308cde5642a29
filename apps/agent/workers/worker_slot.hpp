#pragma once
// Memory shared between the agent and one worker (MAP_SHARED|MAP_ANONYMOUS, created
// before fork). The agent writes the control words; the worker publishes its counters
// here as it goes, so a worker that had to be SIGKILLed still has a report.
#include <atomic>
#include <cstdint>

#include "metrics.hpp"

namespace ktstr::agent {

struct WorkerSlot {
  // Agent -> worker. go and stop are also futex words.
  std::atomic<uint32_t> go{0};
  std::atomic<uint32_t> stop{0};
  std::atomic<uint32_t> mask_gen{0};      ///< bumped after a step changed the worker's CPUs
  std::atomic<int64_t> mask_changed_ns{0};
  std::atomic<uint32_t> base_gen{0};      ///< affinity_churn: base_cpus was replaced
  CpuBits base_cpus;                      ///< affinity_churn: CPUs to move across

  // Worker -> agent.
  std::atomic<uint32_t> ready{0};
  std::atomic<uint32_t> finished{0};
  int64_t started_ns = 0, stopped_ns = 0;  ///< CLOCK_MONOTONIC
  /// When the agent released the worker (CLOCK_MONOTONIC): its wall time and its first
  /// gap start there, so a worker kept off the CPU from the start is seen as such.
  int64_t released_ns = 0;
  uint64_t work_units = 0;
  int64_t cpu_ns = 0;
  uint64_t migrations = 0;
  int last_cpu = -1;
  CpuBits cpus_used;
  GapTracker gap;
  IsolationTracker isolation;
  LatencyHistogram latency;
  bool schedstat_ok = false;
  Schedstat schedstat_start, schedstat_last;
  char error[256] = {};  ///< setup error: the report's exit is "error: <this>"
};

/// Futex ping-pong: one per pair, shared by both.
struct PairShared {
  std::atomic<uint32_t> turn{0};  ///< side whose turn it is (0: the lower id)
  std::atomic<int64_t> post_ns[2] = {};  ///< when the partner handed the turn to side i
};

/// mmap'ed, zero-initialised objects that survive fork.
WorkerSlot* map_slot();
PairShared* map_pair();
void unmap_slot(WorkerSlot*);
void unmap_pair(PairShared*);

}  // namespace ktstr::agent
