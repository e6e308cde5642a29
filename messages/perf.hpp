#pragma once
// Per-vCPU-thread perf counters: the periodic samples and the sampler's report
// (its answer to perf_report_atom), which the run report turns into JSON.
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ktstr::msg {

struct counter_value {
  std::string name;
  uint64_t value = 0;
};

/// One periodic sample of one vCPU thread's counters.
struct perf_sample {
  double at_s = 0;
  uint32_t vcpu = 0;
  std::vector<counter_value> counters;
};

/// A counter the sampler opened.
struct perf_counter {
  std::string name;
  bool guest_only = false;  ///< counts guest mode only
};

/// A counter the host could not provide, and why.
struct perf_counter_unavailable {
  std::string name;
  std::string reason;
};

/// Everything the sampler learned about one vCPU thread.
struct perf_vcpu_timeline {
  uint32_t vcpu = 0;
  int32_t tid = 0;
  double started_at_s = 0;
  double exited_at_s = -1;                          ///< < 0 while the thread runs
  std::vector<perf_counter> counters;
  std::vector<std::string> multiplexed;             ///< sorted: counters whose values were scaled estimates
  std::vector<perf_counter_unavailable> unavailable;
  std::string exit_watch_problem;                   ///< why an exit may go unseen; empty when it cannot
  uint64_t samples_dropped = 0;
  std::vector<perf_sample> samples;                 ///< counter deltas since the previous sample
};

/// The perf sampler's timeline, by vCPU number.
struct perf_report {
  int64_t period_ms = 0;
  std::vector<perf_vcpu_timeline> vcpus;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, counter_value& x) {
  return f(caf::meta::type_name("counter_value"), x.name, x.value);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, perf_sample& x) {
  return f(caf::meta::type_name("perf_sample"), x.at_s, x.vcpu, x.counters);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, perf_counter& x) {
  return f(caf::meta::type_name("perf_counter"), x.name, x.guest_only);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, perf_counter_unavailable& x) {
  return f(caf::meta::type_name("perf_counter_unavailable"), x.name, x.reason);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, perf_vcpu_timeline& x) {
  return f(caf::meta::type_name("perf_vcpu_timeline"), x.vcpu, x.tid, x.started_at_s, x.exited_at_s, x.counters,
           x.multiplexed, x.unavailable, x.exit_watch_problem, x.samples_dropped, x.samples);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, perf_report& x) {
  return f(caf::meta::type_name("perf_report"), x.period_ms, x.vcpus);
}

}  // namespace ktstr::msg
