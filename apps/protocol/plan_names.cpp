// The plan's names: work types, policies and step ops as they are spelled in plan.json
// (and in scenario files, which use the same words).
#include <utility>

#include "apps/protocol/plan.hpp"

namespace ktstr::protocol {

namespace {

constexpr std::string_view kTestBlock = "test_block";

constexpr std::pair<Op::Kind, std::string_view> kOps[] = {
    {Op::Kind::set_cpuset, "set_cpuset"}, {Op::Kind::clear_cpuset, "clear_cpuset"},
    {Op::Kind::add_cgroup, "add_cgroup"}, {Op::Kind::remove_cgroup, "remove_cgroup"},
    {Op::Kind::spawn, "spawn"}, {Op::Kind::stop, "stop"}, {Op::Kind::move_tasks, "move_tasks"},
    {Op::Kind::set_affinity, "set_affinity"}, {Op::Kind::scheduler_kill, "scheduler_kill"},
    {Op::Kind::cpu_offline, "cpu_offline"}, {Op::Kind::cpu_online, "cpu_online"},
    {Op::Kind::cgroup_freeze, "cgroup_freeze"},
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
  if (type == WorkType::test_block) return kTestBlock;
  return kWorkTypeNames[static_cast<std::size_t>(type)];
}
std::string_view to_string(Policy policy) { return kPolicyNames[static_cast<std::size_t>(policy)]; }
std::string_view to_string(Op::Kind kind) {
  for (auto& [k, n] : kOps)
    if (k == kind) return n;
  return "?";
}
std::optional<WorkType> work_type_from(std::string_view name) {
  if (name == kTestBlock) return WorkType::test_block;
  for (std::size_t i = 0; i < std::size(kWorkTypeNames); ++i)
    if (kWorkTypeNames[i] == name) return static_cast<WorkType>(i);
  return std::nullopt;
}
std::optional<Policy> policy_from(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kPolicyNames); ++i)
    if (kPolicyNames[i] == name) return static_cast<Policy>(i);
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
