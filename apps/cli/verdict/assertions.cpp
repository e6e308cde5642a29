#include "apps/cli/verdict/assertions.hpp"

#include "apps/cli/verdict/monitor_checks.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "apps/cli/base/exit_codes.hpp"

namespace ktstr::cli {

namespace {

/// Untrusted text in a one-line message.
std::string shown(std::string_view text) { return protocol::printable_excerpt(text, 120); }

std::string who(const protocol::WorkerReport& r) { return "worker " + shown(r.name) + " in cgroup " + shown(r.cgroup); }

Finding finding(CheckKind check, Verdict verdict, std::string message) {
  Finding f;
  f.check = check;
  f.verdict = verdict;
  f.message = std::move(message);
  return f;
}

Finding about(CheckKind check, Verdict verdict, const protocol::WorkerReport& r, std::string message) {
  Finding f = finding(check, verdict, std::move(message));
  f.worker = r.name;
  f.cgroup = r.cgroup;
  return f;
}

/// Worker checks have nothing to look at when no worker reported; the run check says why.
std::optional<Finding> skip_without_reports(const ScenarioResults& results, CheckKind check) {
  if (!results.reports.empty()) return std::nullopt;
  return finding(check, Verdict::skip, "no worker reports to check");
}

std::string policy_of(const ScenarioResults& results, const protocol::WorkerReport& r) {
  const PlannedWorker* w = results.plan.worker(r.id);
  return w ? w->policy : "normal";
}

/// Reported workers grouped by cgroup, then by (type, policy) or type only.
using Group = std::vector<const protocol::WorkerReport*>;
std::map<std::string, std::map<std::string, Group>> groups(const ScenarioResults& results, bool by_policy) {
  std::map<std::string, std::map<std::string, Group>> out;
  for (const auto& [id, r] : results.reports) {
    std::string kind = by_policy ? r.type + "/" + policy_of(results, r) : r.type;
    out[r.cgroup][kind].push_back(&r);
  }
  return out;
}

std::string allowed_text(const ScenarioResults& results, const protocol::WorkerReport& r) {
  const PlannedWorker* w = results.plan.worker(r.id);
  return w ? format_cpu_list(results.plan.allowed_cpus(*w)) : "unknown";
}

std::string output_tail(const protocol::SchedulerEvent& e) {
  if (e.output.empty()) return "; no output";
  std::string out = "; last output:";
  std::size_t first = e.output.size() > 20 ? e.output.size() - 20 : 0;
  for (std::size_t i = first; i < e.output.size(); ++i) out += "\n  " + protocol::printable_excerpt(e.output[i], 200);
  return out;
}

}  // namespace

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::skip: return "skip";
    case Verdict::pass: return "pass";
    case Verdict::inconclusive: return "inconclusive";
    case Verdict::fail: return "fail";
  }
  return "unknown";
}

std::string_view check_name(CheckKind check) {
  switch (check) {
    case CheckKind::starvation: return "starvation";
    case CheckKind::fairness: return "fairness";
    case CheckKind::gap: return "gap";
    case CheckKind::isolation: return "isolation";
    case CheckKind::throughput: return "throughput";
    case CheckKind::scheduler: return "scheduler";
    case CheckKind::run: return "run";
    case CheckKind::predicted_stall: return "predicted_stall";
    case CheckKind::rq_clock: return "rq_clock";
    case CheckKind::imbalance: return "imbalance";
    case CheckKind::payload: return "payload";
  }
  return "unknown";
}

std::optional<double> off_cpu_pct(const protocol::WorkerReport& r) {
  if (r.wall_ms <= 0) return std::nullopt;
  return std::min(r.off_cpu_ms, r.wall_ms) / r.wall_ms * 100;
}

std::vector<Finding> check_starvation(const ScenarioResults& results, const AssertionThresholds& thresholds) {
  if (!thresholds.starvation) return {finding(CheckKind::starvation, Verdict::skip, "starvation check disabled")};
  if (auto skip = skip_without_reports(results, CheckKind::starvation)) return {*skip};
  std::vector<Finding> out;
  for (const auto& [id, r] : results.reports) {
    if (r.work_units > 0) continue;
    std::optional<uint32_t> cpu = r.max_gap_cpu;
    if (!cpu && !r.cpus_used.empty()) cpu = r.cpus_used.back();
    std::string seen = r.max_gap_cpu      ? fmt::format("last on CPU {}", *r.max_gap_cpu)
                       : r.cpus_used.empty() ? std::string("never seen on a CPU")
                                             : "seen on CPUs " + format_cpu_list(r.cpus_used);
    Finding f = about(CheckKind::starvation, Verdict::fail, r,
                      fmt::format("{} starved: 0 work units from {:.1f} to {:.1f} ms ({:.1f} ms wall); allowed "
                                  "CPUs {}, {}",
                                  who(r), r.started_ms, r.stopped_ms, r.wall_ms, allowed_text(results, r), seen));
    f.cpu = cpu;
    f.at_ms = r.started_ms;
    out.push_back(std::move(f));
  }
  if (out.empty())
    out.push_back(finding(CheckKind::starvation, Verdict::pass,
                          fmt::format("all {} reported workers made progress", results.reports.size())));
  return out;
}

std::vector<Finding> check_fairness(const ScenarioResults& results, const AssertionThresholds& thresholds) {
  if (auto skip = skip_without_reports(results, CheckKind::fairness)) return {*skip};
  std::vector<Finding> out;
  std::size_t compared = 0;
  double worst = 0;
  for (const auto& [cgroup, kinds] : groups(results, /*by_policy=*/true)) {
    for (const auto& [kind, members] : kinds) {
      const protocol::WorkerReport *lo = nullptr, *hi = nullptr;
      std::size_t n = 0;
      for (const protocol::WorkerReport* r : members) {
        auto pct = off_cpu_pct(*r);
        if (!pct) continue;
        ++n;
        if (!lo || *pct < *off_cpu_pct(*lo)) lo = r;
        if (!hi || *pct > *off_cpu_pct(*hi)) hi = r;
      }
      if (n < 2) continue;
      ++compared;
      double lo_pct = *off_cpu_pct(*lo), hi_pct = *off_cpu_pct(*hi), spread = hi_pct - lo_pct;
      worst = std::max(worst, spread);
      if (spread <= thresholds.fairness_spread_pct) continue;
      Finding f = about(CheckKind::fairness, Verdict::fail, *hi,
                        fmt::format("cgroup {}: off-CPU spread {:.1f} points among {} {} workers exceeds {:g}: {} "
                                    "off-CPU {:.1f}%, {} off-CPU {:.1f}%",
                                    shown(cgroup), spread, n, shown(kind), thresholds.fairness_spread_pct,
                                    shown(hi->name), hi_pct, shown(lo->name), lo_pct));
      out.push_back(std::move(f));
    }
  }
  if (compared == 0)
    return {finding(CheckKind::fairness, Verdict::skip, "no cgroup has two workers of the same type and policy")};
  if (out.empty())
    out.push_back(finding(CheckKind::fairness, Verdict::pass,
                          fmt::format("off-CPU spread within {:g} points in {} worker group(s) (largest {:.1f})",
                                      thresholds.fairness_spread_pct, compared, worst)));
  return out;
}

std::vector<Finding> check_gap(const ScenarioResults& results, const AssertionThresholds& thresholds) {
  if (auto skip = skip_without_reports(results, CheckKind::gap)) return {*skip};
  std::vector<Finding> out;
  double longest = 0;
  for (const auto& [id, r] : results.reports) {
    longest = std::max(longest, r.max_gap_ms);
    if (r.max_gap_ms <= thresholds.max_gap_ms) continue;
    std::string when = r.max_gap_at_ms ? fmt::format(" from {:.1f} ms on", *r.max_gap_at_ms) : "";
    std::string where = r.max_gap_cpu ? fmt::format(", then ran on CPU {}", *r.max_gap_cpu) : "";
    Finding f = about(CheckKind::gap, Verdict::fail, r,
                      fmt::format("{} made no progress for {:.1f} ms{}{} (limit {:g} ms)", who(r), r.max_gap_ms, when,
                                  where, thresholds.max_gap_ms));
    f.cpu = r.max_gap_cpu;
    f.at_ms = r.max_gap_at_ms;
    out.push_back(std::move(f));
  }
  if (out.empty())
    out.push_back(finding(CheckKind::gap, Verdict::pass,
                          fmt::format("longest gap {:.1f} ms, within {:g} ms", longest, thresholds.max_gap_ms)));
  return out;
}

std::vector<Finding> check_isolation(const ScenarioResults& results, const AssertionThresholds& thresholds) {
  if (!thresholds.isolation) return {finding(CheckKind::isolation, Verdict::skip, "isolation check disabled")};
  if (auto skip = skip_without_reports(results, CheckKind::isolation)) return {*skip};
  std::vector<Finding> out;
  for (const auto& [id, r] : results.reports) {
    const auto& iso = r.isolation;
    if (iso.violations == 0) continue;
    std::string cpu = iso.first_cpu ? fmt::format("CPU {}", *iso.first_cpu) : std::string("a CPU");
    std::string allowed = iso.first_allowed ? format_cpu_list(*iso.first_allowed)
                                            : allowed_text(results, r) + " (as planned)";
    std::string when = iso.first_at_ms ? fmt::format(" at {:.1f} ms", *iso.first_at_ms) : "";
    Finding f = about(CheckKind::isolation, Verdict::fail, r,
                      fmt::format("{} ran on {} outside its allowed CPUs {}{} ({} violation{})", who(r), cpu, allowed,
                                  when, iso.violations, iso.violations == 1 ? "" : "s"));
    f.cpu = iso.first_cpu;
    f.at_ms = iso.first_at_ms;
    out.push_back(std::move(f));
  }
  if (out.empty())
    out.push_back(finding(CheckKind::isolation, Verdict::pass, "every worker stayed on its allowed CPUs"));
  return out;
}

std::vector<Finding> check_throughput(const ScenarioResults& results, const AssertionThresholds& thresholds) {
  if (!thresholds.throughput_spread_pct)
    return {finding(CheckKind::throughput, Verdict::skip, "throughput spread not configured")};
  if (auto skip = skip_without_reports(results, CheckKind::throughput)) return {*skip};
  const double limit = *thresholds.throughput_spread_pct;
  // Work units per second of the worker's own wall time: workers spawned later or
  // stopped earlier are compared fairly (equal walls give the plain unit ratio).
  auto rate = [](const protocol::WorkerReport* r) { return r->wall_ms > 0 ? r->work_units / r->wall_ms * 1000 : 0.0; };
  std::vector<Finding> out;
  std::size_t compared = 0;
  double worst = 0;
  for (const auto& [cgroup, kinds] : groups(results, /*by_policy=*/false)) {
    for (const auto& [type, members] : kinds) {
      if (members.size() < 2) continue;
      auto [lo, hi] = std::minmax_element(members.begin(), members.end(),
                                          [&](auto* a, auto* b) { return rate(a) < rate(b); });
      if (rate(*hi) <= 0) continue;
      ++compared;
      double spread = (rate(*hi) - rate(*lo)) / rate(*hi) * 100;
      worst = std::max(worst, spread);
      if (spread <= limit) continue;
      out.push_back(about(CheckKind::throughput, Verdict::fail, **lo,
                          fmt::format("cgroup {}: throughput spread {:.1f}% among {} {} workers exceeds {:g}%: {} did "
                                      "{:.0f} work units/s ({} in total), {} {:.0f}/s ({} in total)",
                                      shown(cgroup), spread, members.size(), shown(type), limit, shown((*hi)->name),
                                      rate(*hi), (*hi)->work_units, shown((*lo)->name), rate(*lo),
                                      (*lo)->work_units)));
    }
  }
  if (compared == 0)
    return {finding(CheckKind::throughput, Verdict::skip, "no cgroup has two working workers of the same type")};
  if (out.empty())
    out.push_back(finding(CheckKind::throughput, Verdict::pass,
                          fmt::format("throughput spread within {:g}% in {} worker group(s) (largest {:.1f}%)", limit,
                                      compared, worst)));
  return out;
}

std::vector<Finding> check_scheduler(const ScenarioResults& results) {
  const auto& events = results.scheduler_events;
  if (!results.plan.scheduler_path && events.empty())
    return {finding(CheckKind::scheduler, Verdict::skip, "kernel's built-in scheduler: no scheduler under test")};
  std::vector<Finding> out;
  const protocol::SchedulerEvent* enabled = nullptr;
  for (const auto& e : events) {
    Finding f = finding(CheckKind::scheduler, Verdict::fail, "");
    f.at_ms = e.at_ms;
    std::string state = e.sched_ext_state ? " (sched_ext state: " + shown(*e.sched_ext_state) + ")" : "";
    switch (e.state) {
      case protocol::SchedulerState::enabled:
        if (!enabled) enabled = &e;
        continue;
      case protocol::SchedulerState::died:
        f.message = fmt::format("scheduler died at {:.3f} s{}{}", *e.at_ms / 1000,
                                e.status ? " (" + shown(*e.status) + ")" : "", output_tail(e));
        break;
      case protocol::SchedulerState::ejected:
        f.message = fmt::format("scheduler was ejected at {:.3f} s{}{}", *e.at_ms / 1000, state, output_tail(e));
        break;
      case protocol::SchedulerState::enable_timeout:
        f.message = fmt::format("scheduler did not enable within {:.1f} s{}{}", *e.after_ms / 1000, state,
                                output_tail(e));
        break;
      case protocol::SchedulerState::unsupported: {
        f.verdict = Verdict::skip;
        std::string reason = e.reason ? shown(*e.reason) : "no reason given";
        f.message = "sched_ext is not supported by the guest kernel: " + reason;
        if (reason.find("CONFIG_SCHED_CLASS_EXT") == std::string::npos)
          f.message += " (needs a kernel built with CONFIG_SCHED_CLASS_EXT)";
        break;
      }
      default:
        continue;
    }
    out.push_back(std::move(f));
  }
  if (!out.empty()) return out;
  if (!enabled)
    return {finding(CheckKind::scheduler, Verdict::inconclusive,
                    "scheduler " + shown(results.plan.scheduler_path.value_or("?")) + " never reported enabled")};
  return {finding(CheckKind::scheduler, Verdict::pass,
                  fmt::format("scheduler {} enabled after {:.0f} ms{} and stayed enabled",
                              shown(results.plan.scheduler_path.value_or("?")), *enabled->after_ms,
                              enabled->ops ? " (ops " + shown(*enabled->ops) + ")" : ""))};
}

std::vector<Finding> check_run(const ScenarioResults& results) {
  std::vector<Finding> out;
  auto inconclusive = [&](std::string message, std::optional<double> at_ms = std::nullopt) {
    Finding f = finding(CheckKind::run, Verdict::inconclusive, std::move(message));
    f.at_ms = at_ms;
    out.push_back(std::move(f));
  };
  const bool unsupported = std::any_of(results.scheduler_events.begin(), results.scheduler_events.end(),
                                       [](auto& e) { return e.state == protocol::SchedulerState::unsupported; });
  std::string done_errors;
  if (results.done)
    for (const auto& e : results.done->errors) done_errors += (done_errors.empty() ? ": " : "; ") + shown(e);

  if (!results.started) {
    if (unsupported && results.reports.empty())
      return {finding(CheckKind::run, Verdict::skip, "scenario did not run: sched_ext unsupported" + done_errors)};
    inconclusive("scenario never started" + (done_errors.empty() ? std::string(" (no scenario_started)") : done_errors));
  } else if (!results.done) {
    std::string missing;
    auto absent = results.missing_workers();
    for (std::size_t i = 0; i < absent.size() && i < 10; ++i) missing += (i ? ", " : ": ") + absent[i]->name;
    if (absent.size() > 10) missing += ", ...";
    inconclusive(fmt::format("scenario never finished (no scenario_done); {} of {} workers did not report{}",
                             absent.size(), results.plan.workers.size(), missing));
  } else {
    for (const PlannedWorker* w : results.missing_workers()) {
      Finding f = finding(CheckKind::run, Verdict::fail,
                          fmt::format("worker {} (id {}) in cgroup {} never reported", w->name, w->id, w->cgroup));
      f.worker = w->name;
      f.cgroup = w->cgroup;
      out.push_back(std::move(f));
    }
    for (const auto& e : results.done->errors) inconclusive("scenario_done reports an error: " + shown(e));
  }
  for (const auto& step : results.steps)
    for (const auto& e : step.errors)
      inconclusive(fmt::format("step {} (planned at {:.0f} ms, ran at {:.1f} ms) did not apply as planned: {}",
                               step.index, step.planned_ms, step.at_ms, shown(e)),
                   step.at_ms);
  for (const auto& [id, r] : results.reports) {
    if (r.exit == protocol::WorkerExit::ok) continue;
    Finding f = about(CheckKind::run, Verdict::inconclusive, r,
                      r.exit == protocol::WorkerExit::killed
                          ? who(r) + " did not stop within 2 s of the stop signal and was killed"
                          : who(r) + " did not run as planned: " + shown(r.exit_text));
    f.at_ms = r.stopped_ms;
    out.push_back(std::move(f));
  }
  for (const auto& e : results.agent_errors) inconclusive("agent error: " + shown(e));
  for (const auto& p : results.protocol_problems) inconclusive("protocol problem: " + shown(p));
  if (out.empty())
    out.push_back(finding(CheckKind::run, Verdict::pass,
                          fmt::format("scenario ran to its end in {:.0f} ms; all {} workers reported",
                                      results.done->wall_ms, results.plan.workers.size())));
  return out;
}

std::vector<Finding> check_payloads(const ScenarioResults& results) {
  if (results.plan.payloads.empty()) return {finding(CheckKind::payload, Verdict::skip, "no payloads in this scenario")};
  std::vector<Finding> out;
  for (const PlannedPayload& planned : results.plan.payloads) {
    const std::string who = "payload " + planned.name;
    auto add = [&](Verdict verdict, std::string message, std::optional<double> at_ms) {
      Finding f = finding(CheckKind::payload, verdict, std::move(message));
      if (!planned.cgroup.empty()) f.cgroup = planned.cgroup;
      f.at_ms = at_ms;
      out.push_back(std::move(f));
    };
    auto it = results.payloads.find(planned.id);
    if (it == results.payloads.end()) {
      // Without scenario_done the run check already says the scenario never finished.
      if (results.done) add(Verdict::fail, who + " never reported", std::nullopt);
      continue;
    }
    const protocol::PayloadReport& r = it->second;
    const double ran_s = (r.ended_ms - r.started_ms) / 1000;
    const std::string tail = r.output.empty() ? "" : "; last output: " + shown(r.output.back());
    if (r.error) {
      add(r.stopped ? Verdict::inconclusive : Verdict::fail, who + " did not run: " + shown(*r.error), r.started_ms);
    } else if (r.stopped) {
      add(Verdict::pass, fmt::format("{} still ran at the scenario's end and was stopped after {:.1f} s", who, ran_s), r.ended_ms);
    } else if (r.signal) {
      add(Verdict::fail, fmt::format("{} was killed by signal {} after {:.1f} s{}", who, *r.signal, ran_s, tail), r.ended_ms);
    } else if (r.exit_code && *r.exit_code != 0) {
      add(Verdict::fail, fmt::format("{} exited {} after {:.1f} s{}", who, *r.exit_code, ran_s, tail), r.ended_ms);
    } else {
      add(Verdict::pass, fmt::format("{} exited 0 after {:.1f} s", who, ran_s), r.ended_ms);
    }
  }
  return out;
}

std::vector<Finding> evaluate(const ScenarioResults& results, const AssertionThresholds& thresholds) {
  std::vector<Finding> all;
  auto add = [&](std::vector<Finding> part) {
    for (auto& f : part) all.push_back(std::move(f));
  };
  add(check_starvation(results, thresholds));
  add(check_fairness(results, thresholds));
  add(check_gap(results, thresholds));
  add(check_isolation(results, thresholds));
  add(check_throughput(results, thresholds));
  add(check_scheduler(results));
  add(check_scheduler_exit(results.monitor));
  add(check_run(results));
  // The monitor's checks judge the run under test: a scheduler the kernel cannot run makes
  // the whole scenario a skip, and so are they.
  const bool unsupported = std::any_of(results.scheduler_events.begin(), results.scheduler_events.end(), [](const auto& e) {
    return e.state == protocol::SchedulerState::unsupported;
  });
  if (!unsupported) {
    add(check_predicted_stall(results.monitor, thresholds));
    add(check_rq_clock(results.monitor, thresholds));
    add(check_imbalance(results.monitor, thresholds));
  } else {
    for (CheckKind kind : {CheckKind::predicted_stall, CheckKind::rq_clock, CheckKind::imbalance})
      all.push_back(finding(kind, Verdict::skip, "sched_ext is not supported by the guest kernel"));
  }
  add(check_payloads(results));
  return all;
}

Verdict overall_verdict(const std::vector<Finding>& findings) {
  Verdict v = Verdict::skip;
  for (const auto& f : findings) v = std::max(v, f.verdict);
  return v;
}

int exit_code_for(Verdict verdict) {
  switch (verdict) {
    case Verdict::fail: return exit_fail;
    case Verdict::inconclusive: return exit_inconclusive;
    case Verdict::pass:
    case Verdict::skip: return exit_pass;
  }
  return exit_inconclusive;
}

}  // namespace ktstr::cli
