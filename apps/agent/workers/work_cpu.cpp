// CPU-bound work types: spin, yield, cache_pressure, nice_sweep, policy_churn,
// affinity_churn, rt_hog. Their unit of work is a spin chunk (cache_pressure: one pass).
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "work_types.hpp"

namespace ktstr::agent {

namespace {
constexpr int64_t kChurnPeriodNs = 10'000'000;  // nice/policy/affinity change every 10 ms
}

void work_spin(WorkerContext& ctx) {
  while (!ctx.stopping()) {
    spin_unit();
    ctx.add_units();
    ctx.maybe_checkpoint();
  }
}

void work_yield(WorkerContext& ctx) {
  while (!ctx.stopping()) {
    for (int i = 0; i < 10; ++i) spin_unit();  // a little work between yields
    ::sched_yield();
    ctx.add_units();
    ctx.maybe_checkpoint();
  }
}

void work_cache_pressure(WorkerContext& ctx, uint32_t cache_kib) {
  size_t bytes = static_cast<size_t>(cache_kib) * 1024;
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::snprintf(ctx.slot()->error, sizeof ctx.slot()->error, "cache_pressure: mmap %zu bytes: %s", bytes, std::strerror(errno));
    return;
  }
  auto* buf = static_cast<volatile uint8_t*>(p);
  std::memset(p, 1, bytes);
  while (!ctx.stopping()) {
    for (size_t off = 0; off < bytes && !ctx.stopping(); off += 64) {
      buf[off] = static_cast<uint8_t>(buf[off] + 1);
      if ((off & 4095) == 0) ctx.maybe_checkpoint();
    }
    ctx.add_units();
  }
  ::munmap(p, bytes);
}

void work_nice_sweep(WorkerContext& ctx) {
  int nice = ::getpriority(PRIO_PROCESS, 0);
  while (!ctx.stopping()) {
    spin_until(ctx, mono_ns() + kChurnPeriodNs);
    nice = (nice + 1) % 20;  // 0..19: only ever nicer than the default
    ::setpriority(PRIO_PROCESS, 0, nice);
  }
}

void work_policy_churn(WorkerContext& ctx) {
  constexpr int kPolicies[] = {SCHED_OTHER, SCHED_BATCH, SCHED_IDLE};
  sched_param sp{};
  for (int i = 0; !ctx.stopping(); i = (i + 1) % 3) {
    ::sched_setscheduler(0, kPolicies[i], &sp);
    spin_until(ctx, mono_ns() + kChurnPeriodNs);
  }
  ::sched_setscheduler(0, SCHED_OTHER, &sp);
}

void work_affinity_churn(WorkerContext& ctx, const WorkerLaunch& launch) {
  auto* slot = ctx.slot();
  std::vector<int> base = launch.spec.affinity.value_or(launch.usable_cpus);
  uint32_t seen = slot->base_gen.load();
  if (base.empty()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    ::sched_getaffinity(0, sizeof set, &set);
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) base.push_back(c);
  }
  size_t next = 0;
  while (!ctx.stopping()) {
    if (uint32_t g = slot->base_gen.load(std::memory_order_acquire); g != seen) {
      seen = g;
      base = slot->base_cpus.list();
    }
    // Move to the next CPU of the base that the cpuset allows (EINVAL: not allowed).
    for (size_t tries = 0; tries < base.size(); ++tries) {
      int cpu = base[next++ % base.size()];
      cpu_set_t set;
      CPU_ZERO(&set);
      CPU_SET(cpu, &set);
      if (::sched_setaffinity(0, sizeof set, &set) == 0) break;
    }
    ctx.refresh_mask_now(mono_ns());
    spin_until(ctx, mono_ns() + kChurnPeriodNs);
  }
}

}  // namespace ktstr::agent
