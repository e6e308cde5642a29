#include "actors/perf_timeline.hpp"

#include <utility>

namespace ktstr::actors {

namespace {

nlohmann::json vcpu_json(const VcpuPerfTrack& t) {
  nlohmann::json counters = nlohmann::json::array();
  for (const auto& c : t.available) counters.push_back({{"name", c.name}, {"guest_only", c.guest_only}});
  nlohmann::json unavailable = nlohmann::json::array();
  for (const auto& u : t.unavailable) unavailable.push_back({{"name", u.name}, {"reason", u.reason}});
  nlohmann::json samples = nlohmann::json::array();
  for (const auto& s : t.samples) {
    nlohmann::json deltas = nlohmann::json::object();
    for (const auto& c : s.counters) deltas[c.name] = c.value;
    samples.push_back({{"at_s", s.at_s}, {"deltas", std::move(deltas)}});
  }
  return {{"vcpu", t.vcpu},
          {"tid", t.tid},
          {"started_at_s", t.started_at_s},
          {"exited_at_s", t.exited_at_s < 0 ? nlohmann::json(nullptr) : nlohmann::json(t.exited_at_s)},
          {"counters", std::move(counters)},
          {"multiplexed", t.multiplexed},
          {"unavailable", std::move(unavailable)},
          {"exit_watch", t.exit_watch_problem.empty() ? nlohmann::json(nullptr) : nlohmann::json(t.exit_watch_problem)},
          {"samples_dropped", t.samples_dropped},
          {"samples", std::move(samples)}};
}

}  // namespace

nlohmann::json perf_timeline_json(const perf_sampler_state& state) {
  nlohmann::json vcpus = nlohmann::json::array();
  // The same counter usually fails the same way on every vCPU: one entry per (name, reason).
  std::map<std::pair<std::string, std::string>, std::vector<uint32_t>> merged;
  for (const auto& [index, track] : state.vcpus) {
    vcpus.push_back(vcpu_json(track));
    for (const auto& u : track.unavailable) merged[{u.name, u.reason}].push_back(index);
  }
  nlohmann::json unavailable = nlohmann::json::array();
  for (const auto& [key, which] : merged)
    unavailable.push_back({{"name", key.first}, {"reason", key.second}, {"vcpus", which}});
  return {{"period_ms", state.config.period.count()}, {"unavailable", std::move(unavailable)},
          {"vcpus", std::move(vcpus)}};
}

}  // namespace ktstr::actors
