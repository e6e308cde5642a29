#include "apps/cli/report/perf_json.hpp"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ktstr::cli {

namespace {

nlohmann::json vcpu_json(const msg::perf_vcpu_timeline& t) {
  nlohmann::json counters = nlohmann::json::array();
  for (const auto& c : t.counters) counters.push_back({{"name", c.name}, {"guest_only", c.guest_only}});
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

nlohmann::json perf_json(const msg::perf_report& report) {
  nlohmann::json vcpus = nlohmann::json::array();
  // The same counter usually fails the same way on every vCPU: one entry per (name, reason).
  std::map<std::pair<std::string, std::string>, std::vector<uint32_t>> merged;
  for (const auto& t : report.vcpus) {
    vcpus.push_back(vcpu_json(t));
    for (const auto& u : t.unavailable) merged[{u.name, u.reason}].push_back(t.vcpu);
  }
  nlohmann::json unavailable = nlohmann::json::array();
  for (const auto& [key, which] : merged)
    unavailable.push_back({{"name", key.first}, {"reason", key.second}, {"vcpus", which}});
  return {{"period_ms", report.period_ms}, {"unavailable", std::move(unavailable)}, {"vcpus", std::move(vcpus)}};
}

}  // namespace ktstr::cli
