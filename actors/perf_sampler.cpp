#include "actors/perf_sampler.hpp"

#include <spdlog/spdlog.h>

#include "actors/perf_timeline.hpp"
#include "actors/unexpected.hpp"

namespace ktstr::actors {

namespace {

using state_ptr = perf_sampler_actor_t::stateful_pointer<perf_sampler_state>;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void start_tracking(state_ptr self, const msg::vcpu_started& started) {
  auto& s = self->state;
  VcpuPerfTrack track;
  track.vcpu = started.vcpu;
  track.tid = started.tid;
  track.started_at_s = seconds_since(s.config.start);
  track.counters = std::make_unique<kvm::PerfCounters>(started.tid, s.config.scope);
  track.available = track.counters->available();
  track.unavailable = track.counters->unavailable();
  track.exit_watch_problem = track.counters->exit_watch_problem();
  for (const auto& u : track.unavailable)
    spdlog::debug("perf: vCPU {} {} unavailable: {}", started.vcpu, u.name, u.reason);
  if (track.available.empty()) track.counters.reset();  // nothing to sample
  s.vcpus[started.vcpu] = std::move(track);             // a restarted vCPU thread starts afresh
}

// One sample of one vCPU: deltas since the previous reading (counters open at zero).
void sample_vcpu(state_ptr self, VcpuPerfTrack& t) {
  auto& s = self->state;
  auto reading = t.counters->read();
  msg::perf_sample sample{seconds_since(s.config.start), t.vcpu, {}};
  for (const auto& v : reading.values) {
    if (v.scaled) t.multiplexed.insert(v.name);
    uint64_t& prev = t.last[v.name];
    // A multiplexed counter is an estimate and may step back: never report a negative delta.
    sample.counters.push_back({v.name, v.value > prev ? v.value - prev : 0});
    prev = v.value;
  }
  t.unavailable = t.counters->unavailable();  // counters whose reads failed are listed there
  if (reading.thread_exited) {
    t.exited_at_s = sample.at_s;
    t.counters.reset();  // final values are in this sample; close the fds now
  }
  if (sample.counters.empty()) return;
  self->send(s.config.observer, sample);
  if (t.samples.size() < s.config.max_samples_per_vcpu) t.samples.push_back(std::move(sample));
  else ++t.samples_dropped;
}

void sample_all(state_ptr self) {
  for (auto& [index, track] : self->state.vcpus)
    if (track.counters) sample_vcpu(self, track);
}

}  // namespace

perf_sampler_actor_t::behavior_type perf_sampler_actor(perf_sampler_actor_t::stateful_pointer<perf_sampler_state> self,
                                                       PerfSamplerConfig config) {
  self->set_default_handler(log_unexpected);
  auto& s = self->state;
  s.config = std::move(config);
  // A zero or negative period would make the actor busy-loop on its own ticks.
  if (s.config.period <= std::chrono::milliseconds(0)) s.config.period = std::chrono::milliseconds(100);
  self->delayed_send(self, s.config.period, msg::sample_atom::value);
  return {
      [=](const msg::vcpu_started& started) { start_tracking(self, started); },
      [=](msg::sample_atom) {
        sample_all(self);
        self->delayed_send(self, self->state.config.period, msg::sample_atom::value);
      },
      // A last sample first, so the report covers the run up to the moment it was asked for.
      [=](msg::perf_report_atom) -> msg::perf_report {
        sample_all(self);
        return perf_timeline(self->state);
      },
  };
}

}  // namespace ktstr::actors
