// The plan's names: work types, policies and step ops as they are spelled in plan.json
// (and in scenario files, which use the same words).
#include <utility>

#include "apps/protocol/plan.hpp"

namespace ktstr::protocol {

namespace {

constexpr std::pair<WorkType, std::string_view> kTypes[] = {
    {WorkType::spin, "spin"}, {WorkType::yield, "yield"}, {WorkType::mixed, "mixed"},
    {WorkType::sleep, "sleep"}, {WorkType::bursty, "bursty"}, {WorkType::pipe_pingpong, "pipe_pingpong"},
    {WorkType::futex_pingpong, "futex_pingpong"}, {WorkType::cache_pressure, "cache_pressure"},
    {WorkType::fork_churn, "fork_churn"}, {WorkType::nice_sweep, "nice_sweep"},
    {WorkType::affinity_churn, "affinity_churn"}, {WorkType::policy_churn, "policy_churn"},
    {WorkType::rt_hog, "rt_hog"}, {WorkType::test_block, "test_block"},
};
constexpr std::pair<Policy, std::string_view> kPolicies[] = {
    {Policy::normal, "normal"}, {Policy::batch, "batch"}, {Policy::idle, "idle"},
    {Policy::fifo, "fifo"}, {Policy::rr, "rr"},
};
constexpr std::pair<Op::Kind, std::string_view> kOps[] = {
    {Op::Kind::set_cpuset, "set_cpuset"}, {Op::Kind::clear_cpuset, "clear_cpuset"},
    {Op::Kind::add_cgroup, "add_cgroup"}, {Op::Kind::remove_cgroup, "remove_cgroup"},
    {Op::Kind::spawn, "spawn"}, {Op::Kind::stop, "stop"}, {Op::Kind::move_tasks, "move_tasks"},
    {Op::Kind::set_affinity, "set_affinity"},
};

}  // namespace

bool valid_cgroup_component(std::string_view c) {
  if (c.empty() || c == "." || c == "..") return false;
  for (char ch : c)
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
          ch == '-'))
      return false;
  return true;
}

bool valid_cgroup_path(std::string_view path) {
  while (true) {
    auto slash = path.find('/');
    if (!valid_cgroup_component(path.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    path = path.substr(slash + 1);
  }
}

std::string_view to_string(WorkType type) {
  for (auto& [t, n] : kTypes)
    if (t == type) return n;
  return "?";
}
std::string_view to_string(Policy policy) {
  for (auto& [p, n] : kPolicies)
    if (p == policy) return n;
  return "?";
}
std::string_view to_string(Op::Kind kind) {
  for (auto& [k, n] : kOps)
    if (k == kind) return n;
  return "?";
}
std::optional<WorkType> work_type_from(std::string_view name) {
  for (auto& [t, n] : kTypes)
    if (n == name) return t;
  return std::nullopt;
}
std::optional<Policy> policy_from(std::string_view name) {
  for (auto& [p, n] : kPolicies)
    if (n == name) return p;
  return std::nullopt;
}
std::optional<Op::Kind> op_kind_from(std::string_view name) {
  for (auto& [k, n] : kOps)
    if (n == name) return k;
  return std::nullopt;
}
bool measures_wake_latency(WorkType type) {
  return type == WorkType::sleep || type == WorkType::bursty || type == WorkType::pipe_pingpong ||
         type == WorkType::futex_pingpong || type == WorkType::mixed;
}

}  // namespace ktstr::protocol
