#include "apps/cli/verdict/monitor_checks.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>

#include "apps/protocol/printable.hpp"
#include "kvm/guest_kernel/scx_names.hpp"

namespace ktstr::cli {

namespace {

constexpr size_t kMaxFindingsPerCheck = 10;

Finding finding(CheckKind check, Verdict verdict, std::string message, std::optional<uint32_t> cpu = std::nullopt,
                std::optional<double> at_s = std::nullopt) {
  Finding f;
  f.check = check;
  f.verdict = verdict;
  f.message = std::move(message);
  f.cpu = cpu;
  if (at_s) f.at_ms = *at_s * 1000;
  return f;
}

/// A skip when there is nothing to judge; nullptr when there is.
std::optional<Finding> unavailable(CheckKind check, const std::optional<msg::monitor_report>& monitor) {
  if (!monitor) return finding(check, Verdict::skip, "monitor off (--monitor-period 0)");
  if (!monitor->available)
    return finding(check, Verdict::skip, monitor->unavailable.empty() ? "monitor unavailable" : monitor->unavailable);
  if (monitor->samples.size() < 2) return finding(check, Verdict::skip, "fewer than two monitor samples");
  return std::nullopt;
}

std::string task_name(const std::string& comm, int32_t pid) {
  return fmt::format("pid {} `{}`", pid, protocol::printable_excerpt(comm, 16));
}

const guest_kernel::CpuSample* cpu_in(const msg::monitor_sample& s, uint32_t cpu) {
  for (const auto& c : s.cpus)
    if (c.cpu == cpu) return &c;
  return nullptr;
}

}  // namespace

const msg::scx_exit_event* scheduler_error(const msg::monitor_report& report) {
  const msg::scx_exit_event* first = nullptr;
  const msg::scx_exit_event* told = nullptr;
  for (const auto& e : report.exit_events) {
    if (guest_kernel::is_error_exit(e.to) && !first) first = &e;
    if (e.info.ok && guest_kernel::is_error_exit(e.info.kind) && !e.info.msg.empty()) told = &e;
  }
  if (told) return told;
  if (first) return first;
  for (const auto& e : report.exit_events)
    if (e.info.ok && guest_kernel::is_error_exit(e.info.kind)) return &e;
  return nullptr;
}

std::vector<Finding> check_scheduler_exit(const std::optional<msg::monitor_report>& monitor) {
  if (!monitor || !monitor->available) return {};
  const auto* e = scheduler_error(*monitor);
  if (!e) return {};
  const uint64_t kind = e->info.ok && guest_kernel::is_error_exit(e->info.kind) ? e->info.kind : e->to;
  std::string what;
  if (e->info.ok) {
    what = protocol::printable_excerpt(e->info.reason, 128);
    if (!e->info.msg.empty()) what += " (" + protocol::printable_excerpt(e->info.msg, 300) + ")";
  } else {
    what = "no exit message: " + e->info.unavailable;
  }
  return {finding(CheckKind::scheduler, Verdict::fail,
                  fmt::format("scheduler error {}: {} at {:.1f} s (read from guest memory)",
                              guest_kernel::exit_kind_name(kind), what, e->at_s),
                  std::nullopt, e->at_s)};
}

bool confirm_release(msg::monitor_report& report, const std::string& agent_release) {
  if (!report.available || report.release == agent_release) return true;
  report.available = false;
  report.unavailable = "monitor unavailable: it read kernel " + protocol::printable_excerpt(report.release, 64) +
                       " in guest memory but the guest agent reports " + protocol::printable_excerpt(agent_release, 64);
  report.samples.clear();
  report.exit_events.clear();
  report.fields_unavailable.clear();
  return false;
}

std::optional<unsigned> estimate_hz(const msg::monitor_report& report) {
  const msg::monitor_sample* first = nullptr;
  const msg::monitor_sample* last = nullptr;
  for (const auto& s : report.samples) {
    if (!s.scx.jiffies.ok) continue;
    if (!first) first = &s;
    last = &s;
  }
  if (!first || last->at_s - first->at_s < 1.0) return std::nullopt;
  const double rate = double(int64_t(last->scx.jiffies.value - first->scx.jiffies.value)) / (last->at_s - first->at_s);
  unsigned best = 0;
  for (unsigned hz : {100u, 250u, 300u, 1000u})
    if (!best || std::abs(rate - hz) < std::abs(rate - best)) best = hz;
  return best;
}

std::vector<Finding> check_predicted_stall(const std::optional<msg::monitor_report>& monitor,
                                           const AssertionThresholds& t) {
  if (auto skip = unavailable(CheckKind::predicted_stall, monitor)) return {*skip};
  struct Crossing {  ///< when a task first waited past the share, and its longest wait
    int64_t wait = 0;
    uint64_t timeout = 0;
    uint32_t cpu = 0;
    double at_s = 0;
    std::string comm;
    int64_t longest = 0;
  };
  std::map<int32_t, Crossing> over;  // by pid
  int64_t longest = 0;
  uint64_t timeout_seen = 0;
  for (const auto& s : monitor->samples) {
    const auto& g = s.scx;
    if (!g.jiffies.ok || !g.watchdog_timeout.ok || g.watchdog_timeout.value == 0) continue;
    timeout_seen = g.watchdog_timeout.value;
    for (const auto& c : s.cpus)
      for (const auto& task : c.runnable) {
        const int64_t wait = static_cast<int64_t>(g.jiffies.value - task.runnable_at);  // as time_after()
        if (wait <= 0) continue;
        longest = std::max(longest, wait);
        if (double(wait) * 100 <= t.predicted_stall_pct * double(g.watchdog_timeout.value)) continue;
        auto [it, first] = over.try_emplace(task.pid, Crossing{wait, g.watchdog_timeout.value, c.cpu, s.at_s, task.comm, wait});
        it->second.longest = std::max(it->second.longest, wait);
      }
  }
  if (!timeout_seen)
    return {finding(CheckKind::predicted_stall, Verdict::skip,
                    "no sched_ext watchdog timeout in guest memory: no sched_ext scheduler was watched")};
  const auto hz = estimate_hz(*monitor);
  const double per_jiffy = 1.0 / hz.value_or(250);
  const std::string hz_note = hz ? "" : " (HZ assumed 250)";
  std::vector<Finding> out;
  for (const auto& [pid, w] : over) {
    if (out.size() == kMaxFindingsPerCheck) break;
    out.push_back(finding(CheckKind::predicted_stall, Verdict::fail,
                          fmt::format("predicted stall: {} waiting {:.1f} s of {:.0f} s on CPU {} at {:.1f} s "
                                      "(longest wait seen {:.1f} s){}",
                                      task_name(w.comm, pid), double(w.wait) * per_jiffy,
                                      double(w.timeout) * per_jiffy, w.cpu, w.at_s, double(w.longest) * per_jiffy,
                                      hz_note),
                          w.cpu, w.at_s));
  }
  if (out.empty())
    out.push_back(finding(CheckKind::predicted_stall, Verdict::pass,
                          fmt::format("no runnable sched_ext task waited over {:g}% of the {:.0f} s watchdog timeout "
                                      "(longest {:.2f} s){}",
                                      t.predicted_stall_pct, double(timeout_seen) * per_jiffy,
                                      double(longest) * per_jiffy, hz_note)));
  return out;
}

std::vector<Finding> check_rq_clock(const std::optional<msg::monitor_report>& monitor, const AssertionThresholds& t) {
  if (auto skip = unavailable(CheckKind::rq_clock, monitor)) return {*skip};
  struct Still {
    double since_s = -1;  ///< < 0: advancing
    double for_s = 0;
    bool reported = false;
  };
  std::map<uint32_t, Still> still;
  size_t judged = 0;
  std::vector<Finding> out;
  const auto& samples = monitor->samples;
  for (size_t i = 1; i < samples.size(); ++i) {
    const auto& prev = samples[i - 1];
    const auto& cur = samples[i];
    const double dt = cur.at_s - prev.at_s;
    if (dt <= 0) continue;
    for (const auto& c : cur.cpus) {
      const auto* p = cpu_in(prev, c.cpu);
      auto& st = still[c.cpu];
      // The vCPU with this CPU's number (the VMM numbers vCPUs as Linux numbers CPUs).
      const bool run_known = c.cpu < cur.vcpu_run_ns.size() && c.cpu < prev.vcpu_run_ns.size() &&
                             cur.vcpu_run_ns[c.cpu] && prev.vcpu_run_ns[c.cpu];
      if (!p || !p->clock.ok || !c.clock.ok || !run_known) {
        st.since_s = -1;
        continue;
      }
      ++judged;
      const double ran_s = double(cur.vcpu_run_ns[c.cpu] - prev.vcpu_run_ns[c.cpu]) / 1e9;
      const bool busy = ran_s >= dt / 2;  // ran guest code for at least half the interval
      if (c.clock.value != p->clock.value || !busy) {
        st.since_s = -1;
        st.for_s = 0;
        continue;
      }
      if (st.since_s < 0) st.since_s = prev.at_s;
      st.for_s = cur.at_s - st.since_s;
      if (st.reported || st.for_s * 1000 < t.rq_clock_stuck_ms || out.size() == kMaxFindingsPerCheck) continue;
      st.reported = true;
      const std::string running = c.curr.ok ? " (running " + task_name(c.curr.comm, c.curr.pid) + ")" : "";
      out.push_back(finding(CheckKind::rq_clock, Verdict::fail,
                            fmt::format("CPU {}: rq clock stood still for {:.1f} s from {:.1f} s while its vCPU ran "
                                        "guest code{}",
                                        c.cpu, st.for_s, st.since_s, running),
                            c.cpu, st.since_s));
    }
  }
  if (!judged) return {finding(CheckKind::rq_clock, Verdict::skip, "no rq clock readings with vCPU run times")};
  if (out.empty())
    out.push_back(finding(CheckKind::rq_clock, Verdict::pass,
                          fmt::format("every CPU's rq clock advanced while its vCPU ran ({} sample(s), limit {:g} ms)",
                                      samples.size(), t.rq_clock_stuck_ms)));
  return out;
}

std::vector<Finding> check_imbalance(const std::optional<msg::monitor_report>& monitor, const AssertionThresholds& t) {
  if (!t.imbalance_ms) return {finding(CheckKind::imbalance, Verdict::skip, "not checked (no imbalance_ms in [assert])")};
  if (auto skip = unavailable(CheckKind::imbalance, monitor)) return {*skip};
  double since = -1;
  double worst = 0;
  const auto& samples = monitor->samples;
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    const guest_kernel::CpuSample* busy = nullptr;
    const guest_kernel::CpuSample* idle = nullptr;
    for (const auto& c : s.cpus) {
      if (!c.nr_running.ok) continue;
      if (c.nr_running.value >= 2 && (!busy || c.nr_running.value > busy->nr_running.value)) busy = &c;
      if (c.nr_running.value == 0 && !idle) idle = &c;
    }
    if (!busy || !idle) {
      since = -1;
      continue;
    }
    if (since < 0) since = s.at_s;
    const double lasted = s.at_s - since;
    worst = std::max(worst, lasted);
    if (lasted * 1000 >= *t.imbalance_ms)
      return {finding(CheckKind::imbalance, Verdict::fail,
                      fmt::format("imbalance: CPU {} had {} runnable tasks while CPU {} sat idle, for {:.1f} s from "
                                  "{:.1f} s",
                                  busy->cpu, busy->nr_running.value, idle->cpu, lasted, since),
                      busy->cpu, since)};
  }
  return {finding(CheckKind::imbalance, Verdict::pass,
                  fmt::format("no CPU had 2+ runnable tasks while another sat idle for {:g} ms (longest {:.1f} s)",
                              *t.imbalance_ms, worst))};
}

}  // namespace ktstr::cli
