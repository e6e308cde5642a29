#include "actors/perf_timeline.hpp"

#include <utility>

namespace ktstr::actors {

namespace {

msg::perf_vcpu_timeline vcpu_timeline(const VcpuPerfTrack& t) {
  msg::perf_vcpu_timeline out;
  out.vcpu = t.vcpu;
  out.tid = t.tid;
  out.started_at_s = t.started_at_s;
  out.exited_at_s = t.exited_at_s;
  for (const auto& c : t.available) out.counters.push_back({c.name, c.guest_only});
  out.multiplexed.assign(t.multiplexed.begin(), t.multiplexed.end());  // a std::set: sorted
  for (const auto& u : t.unavailable) out.unavailable.push_back({u.name, u.reason});
  out.exit_watch_problem = t.exit_watch_problem;
  out.samples_dropped = t.samples_dropped;
  out.samples = t.samples;
  return out;
}

}  // namespace

msg::perf_report perf_timeline(const perf_sampler_state& state) {
  msg::perf_report report;
  report.period_ms = state.config.period.count();
  for (const auto& [index, track] : state.vcpus) report.vcpus.push_back(vcpu_timeline(track));  // by vCPU number
  return report;
}

}  // namespace ktstr::actors
