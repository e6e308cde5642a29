#include "apps/cli/scenario/scenario_model.hpp"

#include <algorithm>

#include "kvm/topology.hpp"

namespace ktstr::cli {

void SourceRef::fail(std::string_view problem) const {
  std::string msg = file;
  if (line > 0) msg += ':' + std::to_string(line);
  msg += ": ";
  if (!field.empty()) msg += field + ": ";
  msg += problem;
  throw ScenarioError(msg);
}

std::string_view to_string(ExpectedVerdict v) {
  switch (v) {
    case ExpectedVerdict::pass: return "pass";
    case ExpectedVerdict::fail: return "fail";
    case ExpectedVerdict::inconclusive: return "inconclusive";
  }
  return "?";
}

namespace {

std::string join_ids(const std::vector<uint32_t>& ids) {
  std::string out;
  for (auto id : ids) out += (out.empty() ? "" : ", ") + std::to_string(id);
  return out;
}

std::string short_number(double v) {
  auto s = std::to_string(v);
  while (s.size() > 1 && s.back() == '0') s.pop_back();
  if (s.back() == '.') s += '0';
  return s;
}

}  // namespace

std::string describe(const CpusetSpec& spec) {
  switch (spec.kind) {
    case CpusetSpec::Kind::cpus: return "{ cpus = \"" + kvm::format_cpu_list(spec.ids) + "\" }";
    case CpusetSpec::Kind::fraction:
      return "{ fraction = [" + short_number(spec.from) + ", " + short_number(spec.to) + "] }";
    case CpusetSpec::Kind::llcs:
      return spec.ids.size() == 1 ? "{ llc = " + std::to_string(spec.ids[0]) + " }"
                                  : "{ llcs = [" + join_ids(spec.ids) + "] }";
    case CpusetSpec::Kind::nodes:
      return spec.ids.size() == 1 ? "{ node = " + std::to_string(spec.ids[0]) + " }"
                                  : "{ nodes = [" + join_ids(spec.ids) + "] }";
  }
  return "{ }";
}

bool is_pingpong(std::string_view type) { return type == "pipe_pingpong" || type == "futex_pingpong"; }

bool is_realtime(std::string_view policy) { return policy == "fifo" || policy == "rr"; }

std::vector<std::string_view> params_of(std::string_view type) {
  if (type == "spin" || type == "rt_hog") return {};
  if (type == "mixed" || type == "sleep") return {"work_us", "sleep_us"};
  if (type == "bursty") return {"burst_ms", "idle_ms"};
  if (type == "cache_pressure") return {"work_us", "cache_kib"};
  return {"work_us"};  // yield, ping-pongs, fork_churn, *_sweep, *_churn
}

std::string_view to_string(StepOp::Kind kind) {
  switch (kind) {
    case StepOp::Kind::add_cgroup: return "add_cgroup";
    case StepOp::Kind::remove_cgroup: return "remove_cgroup";
    case StepOp::Kind::set_cpuset: return "set_cpuset";
    case StepOp::Kind::clear_cpuset: return "clear_cpuset";
    case StepOp::Kind::spawn: return "spawn";
    case StepOp::Kind::stop: return "stop";
    case StepOp::Kind::move_tasks: return "move_tasks";
    case StepOp::Kind::set_affinity: return "set_affinity";
    case StepOp::Kind::watch: return "watch";
    case StepOp::Kind::scheduler_kill: return "scheduler_kill";
    case StepOp::Kind::cpu_offline: return "cpu_offline";
    case StepOp::Kind::cpu_online: return "cpu_online";
    case StepOp::Kind::cgroup_freeze: return "cgroup_freeze";
  }
  return "?";
}

}  // namespace ktstr::cli
