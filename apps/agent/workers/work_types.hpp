#pragma once
// One function per work type; run_work() (work_blocking.cpp) dispatches.
#include "worker_context.hpp"

namespace ktstr::agent {

void work_spin(WorkerContext& ctx);  // also rt_hog: its policy was set up by the launcher
void work_yield(WorkerContext& ctx);
void work_cache_pressure(WorkerContext& ctx, uint32_t cache_kib);
void work_nice_sweep(WorkerContext& ctx);
void work_policy_churn(WorkerContext& ctx);
void work_affinity_churn(WorkerContext& ctx, const WorkerLaunch& launch);

void work_sleep(WorkerContext& ctx, int64_t sleep_ns);
void work_mixed(WorkerContext& ctx, int64_t work_ns, int64_t sleep_ns);
void work_bursty(WorkerContext& ctx, int64_t burst_ns, int64_t idle_ns);
void work_fork_churn(WorkerContext& ctx);
void work_pipe_pingpong(WorkerContext& ctx, const WorkerLaunch& launch);
void work_futex_pingpong(WorkerContext& ctx, const WorkerLaunch& launch);
void work_test_block(WorkerContext& ctx);

}  // namespace ktstr::agent
