#pragma once
// The perf sampler actor: opens per-thread counters for each vCPU thread it is told
// about (vcpu_started), samples all of them every period into a per-vCPU timeline of
// counter deltas, forwards each sample to the observer, and answers perf_report_atom
// with the timeline and the counters the host could not provide (msg::perf_report).
// perf_event_open and read on counter fds do not block, so an event-based actor suffices.
#include <caf/all.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "kvm/perf_counters.hpp"

namespace ktstr::actors {

struct PerfSamplerConfig {
  std::chrono::milliseconds period{100};
  std::chrono::steady_clock::time_point start;  ///< at_s is measured from here (VM start)
  perf_sample_listener observer;                ///< receives every perf_sample; may be null
  kvm::CounterScope scope = kvm::CounterScope::guest_preferred;
  size_t max_samples_per_vcpu = 36000;          ///< one hour at 100 ms; later ones are counted, not kept
};

/// Everything known about one vCPU thread's counters.
struct VcpuPerfTrack {
  uint32_t vcpu = 0;
  int32_t tid = 0;
  std::unique_ptr<kvm::PerfCounters> counters;  ///< reset once the thread exited
  std::vector<kvm::CounterInfo> available;
  std::vector<kvm::CounterUnavailable> unavailable;
  std::map<std::string, uint64_t> last;         ///< previous reading, for deltas
  std::vector<msg::perf_sample> samples;        ///< counter deltas since the previous sample
  std::set<std::string> multiplexed;            ///< counters whose values were scaled estimates
  std::string exit_watch_problem;               ///< why an exit may go unseen; empty when it cannot
  size_t samples_dropped = 0;
  double started_at_s = 0;
  double exited_at_s = -1;                      ///< < 0 while the thread runs
};

struct perf_sampler_state {
  PerfSamplerConfig config;
  std::map<uint32_t, VcpuPerfTrack> vcpus;
  static constexpr const char* name = "perf_sampler";
};

perf_sampler_actor_t::behavior_type perf_sampler_actor(perf_sampler_actor_t::stateful_pointer<perf_sampler_state> self,
                                                       PerfSamplerConfig config);

}  // namespace ktstr::actors
