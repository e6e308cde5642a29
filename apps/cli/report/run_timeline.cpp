#include "apps/cli/report/run_timeline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "apps/cli/report/json_fields.hpp"

namespace ktstr::cli {

namespace {

using nlohmann::json;

/// What one sample saw on one CPU.
struct LaneSample {
  double at_s = 0;
  bool has_task = false;
  std::string comm;
  int64_t pid = -1;
  std::optional<double> depth;
};

uint32_t lane_count(const json& result, const json& samples, uint32_t hint, std::vector<std::string>& notes) {
  uint64_t n = 0;
  if (auto vcpus = index(field(field(result, "declared"), "vcpus"), UINT32_MAX)) n = *vcpus;
  if (n == 0 && samples.is_array())
    for (const auto& s : samples)
      for (const auto& c : array_field(s, "cpus"))
        if (auto cpu = index(field(c, "cpu"), kMaxLanes)) n = std::max<uint64_t>(n, *cpu + 1);
  if (n == 0) n = hint;
  if (n > kMaxLanes) {
    notes.push_back(fmt::format("{} CPUs: only the first {} are drawn", n, kMaxLanes));
    n = kMaxLanes;
  }
  return static_cast<uint32_t>(n);
}

/// Past kMaxPointsPerLane samples, one per time bucket: its most frequent task, its deepest queue.
std::vector<LaneSample> thin(const std::vector<LaneSample>& in) {
  if (in.size() <= kMaxPointsPerLane) return in;
  const double first = in.front().at_s;
  const double width = (in.back().at_s - first) / double(kMaxPointsPerLane - 1);
  if (!(width > 0)) return {in.front()};
  auto bucket_of = [&](const LaneSample& s) { return static_cast<int64_t>((s.at_s - first) / width); };
  std::vector<LaneSample> out;
  size_t i = 0;
  while (i < in.size()) {
    const int64_t bucket = bucket_of(in[i]);
    std::map<std::pair<int64_t, std::string>, size_t> seen;
    LaneSample merged;
    merged.at_s = in[i].at_s;
    size_t best = 0;
    for (; i < in.size() && bucket_of(in[i]) == bucket; ++i) {
      if (in[i].depth) merged.depth = std::max(merged.depth.value_or(0), *in[i].depth);
      if (!in[i].has_task) continue;
      const size_t n = ++seen[{in[i].pid, in[i].comm}];
      if (n > best) {
        best = n;
        merged.has_task = true;
        merged.pid = in[i].pid;
        merged.comm = in[i].comm;
      }
    }
    out.push_back(std::move(merged));
  }
  return out;
}

/// Each sample's task holds until the next sample, or for three periods at most (the
/// monitor may not sample while the guest is frozen or gone).
CpuLane build_lane(uint32_t cpu, const std::vector<LaneSample>& samples, double period_s) {
  CpuLane lane;
  lane.cpu = cpu;
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    if (s.depth) lane.depth.push_back({s.at_s, *s.depth});
    if (!s.has_task) continue;
    const double next = i + 1 < samples.size() ? samples[i + 1].at_s : s.at_s + period_s;
    const double to = std::min(next, s.at_s + 3 * period_s);
    if (!lane.ran.empty() && lane.ran.back().pid == s.pid && lane.ran.back().comm == s.comm &&
        lane.ran.back().to_s >= s.at_s) {
      lane.ran.back().to_s = to;
      continue;
    }
    lane.ran.push_back({s.at_s, to, s.comm, s.pid, s.pid == 0});
  }
  return lane;
}

void add_lanes(RunTimeline& t, const json& monitor, uint32_t lanes) {
  const auto& samples = field(monitor, "samples");
  const double period_s = number(monitor, "period_ms").value_or(100) / 1e3;
  std::vector<std::vector<LaneSample>> per_cpu(lanes);
  if (samples.is_array())
    for (const auto& s : samples) {
      const auto at = number(s, "at_s");
      const auto& cpus = field(s, "cpus");
      if (!at || !cpus.is_array()) continue;
      for (const auto& c : cpus) {
        const auto cpu = index(field(c, "cpu"), lanes);
        if (!cpu) continue;
        LaneSample ls;
        ls.at_s = *at;
        ls.depth = number(c, "nr_running");
        const auto& curr = field(c, "curr");
        if (curr.is_object()) {
          ls.has_task = true;
          ls.comm = text(curr, "comm");
          ls.pid = field(curr, "pid").is_number_integer() ? field(curr, "pid").get<int64_t>() : -1;
        }
        per_cpu[*cpu].push_back(std::move(ls));
      }
    }
  for (uint32_t cpu = 0; cpu < lanes; ++cpu) {
    auto& in = per_cpu[cpu];
    std::stable_sort(in.begin(), in.end(), [](const auto& a, const auto& b) { return a.at_s < b.at_s; });
    t.lanes.push_back(build_lane(cpu, thin(in), period_s));
    for (const auto& d : t.lanes.back().depth) t.max_depth = std::max(t.max_depth, d.depth);
  }
  if (!monitor.is_object()) t.notes.push_back("no monitor samples: the monitor was off (--monitor-period 0)");
  else if (monitor.value("available", false) == false)
    t.notes.push_back("no monitor samples: " + text(monitor, "unavailable", "the monitor was unavailable"));
}

std::optional<uint32_t> lane_of(const json& vcpu, uint32_t lanes) {
  if (auto v = index(vcpu, lanes)) return static_cast<uint32_t>(*v);
  return std::nullopt;
}

/// The scenario's t0 in VM time: the agent's boot report ties guest uptime to host time.
std::optional<double> scenario_start(const json& result) {
  const auto& boot = field(result, "boot");
  const auto host_at = number(boot, "host_to_agent_s");
  const auto uptime_at = number(boot, "guest_uptime_at_agent_s");
  const auto started = number(field(field(result, "scenario"), "timing"), "started_uptime_s");
  if (!host_at || !uptime_at || !started) return std::nullopt;
  return *host_at + (*started - *uptime_at);
}

void add_host_marks(RunTimeline& t, const json& result, uint32_t lanes) {
  for (const auto& f : array_field(field(result, "freezes"), "list")) {
    const auto at = number(f, "at_s");
    if (!at) continue;
    TimelineMark m{MarkKind::freeze, *at, *at + number(f, "frozen_s").value_or(0), std::nullopt, "", ""};
    const bool partial = field(f, "partial") == true;
    m.severity = partial ? "fail" : "";
    m.label = fmt::format("freeze {}: {} at {:.3f} s, parked in {:.1f} ms, frozen {:.1f} ms{}", scalar_text(field(f, "id")),
                          text(f, "trigger", "?"), *at, number(f, "latency_s").value_or(0) * 1e3,
                          number(f, "frozen_s").value_or(0) * 1e3,
                          partial ? ", partial: vCPU(s) " + scalar_text(field(f, "missing")) + " did not park" : "");
    t.marks.push_back(std::move(m));
  }
  for (const auto& f : array_field(result, "faults")) {
    TimelineMark m;
    m.kind = MarkKind::fault;
    m.cpu = lane_of(field(f, "vcpu"), lanes);
    const auto applied = number(f, "applied_at_s");
    const std::string what = text(f, "spec", text(f, "kind", "fault"));
    if (applied) {
      m.from_s = *applied;
      m.to_s = number(f, "ended_at_s").value_or(t.span_s);
      m.label = fmt::format("fault {}: applied at {:.3f} s, {}", what, *applied,
                            number(f, "ended_at_s") ? fmt::format("ended at {:.3f} s", m.to_s) : "until the VM ended");
    } else if (auto at = number(f, "at_s")) {
      m.from_s = *at;
      m.to_s = *at + number(f, "seconds").value_or(0);
      m.severity = "planned";
      m.label = fmt::format("fault {}: planned at {:.3f} s, never applied (the VM ended first)", what, *at);
    } else {
      continue;
    }
    t.marks.push_back(std::move(m));
  }
  const auto& monitor = field(result, "monitor");
  std::map<std::string, std::string> watch_spec;
  for (const auto& w : array_field(monitor, "watches"))
    watch_spec[scalar_text(field(w, "slot"))] = text(w, "spec");
  for (const auto& e : array_field(monitor, "watch_events")) {
    const auto at = number(e, "at_s");
    if (!at) continue;
    const std::string slot = scalar_text(field(e, "slot"));
    std::string label = fmt::format("watchpoint slot {} ({}) at {:.3f} s: {} -> {}, seen by {}", slot, watch_spec[slot], *at,
                                    scalar_text(field(e, "old")), scalar_text(field(e, "new")), text(e, "via", "?"));
    if (field(e, "froze") == true) label += ", froze the guest";
    if (field(e, "vcpu").is_number())
      label += fmt::format(", written by vCPU {} at {} {}", scalar_text(field(e, "vcpu")), text(e, "rip"), text(e, "rip_symbol"));
    t.marks.push_back({MarkKind::watch_hit, *at, *at, lane_of(field(e, "vcpu"), lanes), "", std::move(label)});
  }
  for (const auto& e : array_field(monitor, "exit_events")) {
    const auto at = number(e, "at_s");
    if (!at) continue;
    const std::string to = text(e, "to", "?");
    std::string label = fmt::format("sched_ext exit kind {} -> {} at {:.3f} s, seen by {}", text(e, "from", "?"), to, *at,
                                    text(e, "via", "?"));
    const auto& info = field(e, "info");
    if (field(info, "available") == true) label += ": " + text(info, "reason") + " " + text(info, "msg");
    t.marks.push_back({MarkKind::sched_exit, *at, *at, lane_of(field(e, "vcpu"), lanes),
                       to.find("ERROR") != std::string::npos ? "fail" : "", std::move(label)});
  }
}

/// Marks timed by the guest (ms since the scenario's start): placed through scenario_start.
void add_scenario_marks(RunTimeline& t, const json& result, uint32_t lanes) {
  const auto& scenario = field(result, "scenario");
  if (!scenario.is_object()) return;
  std::vector<TimelineMark> marks;
  for (const auto& f : array_field(scenario, "findings")) {
    const std::string verdict = text(f, "verdict");
    const auto at_ms = number(f, "at_ms");
    if ((verdict != "fail" && verdict != "inconclusive") || !at_ms) continue;
    marks.push_back({MarkKind::finding, *at_ms / 1e3, *at_ms / 1e3, lane_of(field(f, "cpu"), lanes), verdict,
                     fmt::format("finding {} {} at {:.0f} ms: {}", text(f, "check", "?"), verdict, *at_ms, text(f, "message"))});
  }
  for (const auto& e : array_field(field(scenario, "scheduler"), "events")) {
    const auto at_ms = number(e, "at_ms");
    if (!at_ms) continue;
    const std::string state = text(e, "state", "?");
    const bool bad = state == "died" || state == "ejected" || state == "enable_timeout";
    std::string label = fmt::format("scheduler {} at {:.0f} ms", state, *at_ms);
    if (!text(e, "reason").empty()) label += ": " + text(e, "reason");
    marks.push_back({MarkKind::scheduler, *at_ms / 1e3, *at_ms / 1e3, std::nullopt, bad ? "fail" : "", std::move(label)});
  }
  for (const auto& s : array_field(field(scenario, "timing"), "steps")) {
    const auto at_ms = number(s, "at_ms");
    if (!at_ms) continue;
    std::string label = fmt::format("step {} at {:.0f} ms (planned {} ms)", scalar_text(field(s, "index")), *at_ms,
                                    scalar_text(field(s, "planned_ms")));
    const auto& errors = field(s, "errors");
    const bool failed = errors.is_array() && !errors.empty();
    if (failed)
      for (const auto& e : errors) label += "; " + scalar_text(e);
    marks.push_back({MarkKind::step, *at_ms / 1e3, *at_ms / 1e3, std::nullopt, failed ? "inconclusive" : "", std::move(label)});
  }
  if (marks.empty()) return;
  if (!t.scenario_start_s) {
    t.notes.push_back(fmt::format("{} finding(s), scheduler event(s) and step(s) not drawn: the scenario's start in VM "
                                  "time is not known (no boot or scenario timing in the result)",
                                  marks.size()));
    return;
  }
  for (auto& m : marks) {
    m.from_s += *t.scenario_start_s;
    m.to_s += *t.scenario_start_s;
    t.marks.push_back(std::move(m));
  }
}

}  // namespace

const char* mark_kind_name(MarkKind kind) {
  switch (kind) {
    case MarkKind::freeze: return "freeze";
    case MarkKind::fault: return "fault";
    case MarkKind::watch_hit: return "watch-hit";
    case MarkKind::sched_exit: return "sched-exit";
    case MarkKind::finding: return "finding";
    case MarkKind::scheduler: return "scheduler";
    case MarkKind::step: return "step";
  }
  return "mark";
}

RunTimeline run_timeline(const json& result, uint32_t cpus) {
  RunTimeline t;
  const auto& monitor = field(result, "monitor");
  const auto& samples = field(monitor, "samples");
  // The axis is host time: how long the VM ran, or as far as the monitor sampled.
  t.span_s = number(field(result, "vm_end"), "elapsed_s").value_or(0);
  if (samples.is_array() && !samples.empty())
    t.span_s = std::max(t.span_s, number(samples.back(), "at_s").value_or(0));
  if (t.span_s <= 0) t.span_s = 1;
  const uint32_t lanes = lane_count(result, samples, cpus, t.notes);
  t.scenario_start_s = scenario_start(result);
  add_lanes(t, monitor, lanes);
  add_host_marks(t, result, lanes);
  add_scenario_marks(t, result, lanes);
  // Guest-chosen times may lie anywhere: what is outside the axis is listed, not drawn.
  const auto outside = std::remove_if(t.marks.begin(), t.marks.end(), [&](const TimelineMark& m) {
    return m.from_s < -0.5 || m.from_s > t.span_s + 0.5 || m.to_s < m.from_s;
  });
  if (outside != t.marks.end())
    t.notes.push_back(fmt::format("{} mark(s) outside the run's {:.1f} s not drawn", t.marks.end() - outside, t.span_s));
  t.marks.erase(outside, t.marks.end());
  return t;
}

}  // namespace ktstr::cli
