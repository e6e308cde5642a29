// GuestKernel::sample_cpu: one lock-free look at a CPU's struct rq (GUEST-KERNEL.md §3).
#include <set>

#include "kvm/guest_kernel/guest_kernel.hpp"

namespace ktstr::guest_kernel {
namespace {

/// PID_MAX_LIMIT on 64-bit: no task count or pid can exceed it, so a larger value is torn.
constexpr uint64_t kPidMaxLimit = 4ull << 20;
/// SCHED_NORMAL..SCHED_EXT.
constexpr uint64_t kMaxPolicy = 7;
constexpr size_t kCommMax = 15;

Reading field(const KernelAddressSpace& space, uint64_t base, const Field& f) {
  if (!f.present() || f.size > 8) return {};
  return space.read_uint(base + f.offset, f.size);
}

/// A count of tasks: unreadable when above any possible number of tasks.
Reading count(const KernelAddressSpace& space, uint64_t base, const Field& f) {
  auto r = field(space, base, f);
  if (r.ok && r.value > kPidMaxLimit) r = {};
  return r;
}

}  // namespace

TaskSummary GuestKernel::read_task(uint64_t task) const {
  TaskSummary t;
  const auto& f = layout_.task;
  if (!space_.plausible_pointer(task, 8) || !f.pid.present() || !f.comm.present()) return t;
  const auto pid = field(space_, task, f.pid);
  const auto comm = space_.read_string(task + f.comm.offset, std::min<size_t>(kCommMax, f.comm.size));
  if (!pid.ok || pid.value > kPidMaxLimit || !comm) return t;
  if (f.policy.present()) {
    const auto policy = field(space_, task, f.policy);
    if (!policy.ok || policy.value > kMaxPolicy) return t;
    t.policy = static_cast<uint32_t>(policy.value);
  }
  t.pid = static_cast<int32_t>(pid.value);
  t.comm = *comm;
  t.ok = true;
  return t;
}

CpuSample GuestKernel::sample_cpu(uint32_t cpu) const {
  CpuSample s;
  s.cpu = cpu;
  const auto& rq = layout_.rq;
  if (cpu >= located_.per_cpu_offset.size() || located_.per_cpu_offset[cpu] == 0 || layout_.runqueues == 0) return s;
  const uint64_t offset = located_.per_cpu_offset[cpu];
  const uint64_t base = layout_.percpu_zero_based ? offset + layout_.runqueues : slid(layout_.runqueues) + offset;
  if (!space_.plausible_pointer(base, 8)) return s;
  if (rq.cpu.present()) {
    const auto id = field(space_, base, rq.cpu);
    if (!id.ok || id.value != cpu) return s;  // not this CPU's rq (or torn): nothing of it is trusted
  }

  s.nr_running = count(space_, base, rq.nr_running);
  s.cfs_h_nr_queued = count(space_, base, rq.cfs_h_nr_queued);
  s.scx_nr_running = count(space_, base, rq.scx_nr_running);
  s.local_dsq_nr = count(space_, base, rq.scx_local_dsq_nr);
  s.scx_flags = field(space_, base, rq.scx_flags);
  s.clock = field(space_, base, rq.clock);
  if (rq.curr.present() && rq.curr.size == 8) {
    const auto curr = space_.read_u64(base + rq.curr.offset);
    if (curr.ok) s.curr = read_task(curr.value);
  }

  // rq->scx.runnable_list: bounded, each node validated, a revisited node is a cycle. On a
  // bad pointer or a cycle, runnable_ok stays false and the tasks read before it are kept.
  const auto& node_field = layout_.task.scx_runnable_node;
  if (!rq.scx_runnable_list.present() || !node_field.present()) return s;
  const uint64_t head = base + rq.scx_runnable_list.offset;
  auto next = space_.read_u64(head);
  std::set<uint64_t> seen;
  while (next.ok && next.value != head) {
    if (s.runnable.size() == kRunnableListBound) {
      s.runnable_truncated = true;
      return s;
    }
    const uint64_t node = next.value;
    if (!space_.plausible_pointer(node, 8) || !seen.insert(node).second) return s;
    const TaskSummary task = read_task(node - node_field.offset);
    if (!task.ok) return s;
    RunnableTask entry{.pid = task.pid, .comm = task.comm, .runnable_at = 0};
    if (layout_.task.scx_runnable_at.present()) {
      const auto at = field(space_, node - node_field.offset, layout_.task.scx_runnable_at);
      if (!at.ok) return s;
      entry.runnable_at = at.value;
    }
    s.runnable.push_back(std::move(entry));
    next = space_.read_u64(node);
  }
  s.runnable_ok = next.ok;
  return s;
}

}  // namespace ktstr::guest_kernel
