// Work types that block: sleep, mixed, bursty, fork_churn, the ping-pong pairs; and the
// dispatcher. A blocking call is bracketed by checkpoints; the wake latency is the time
// from the expected wake-up (timer expiry, partner's post) to running again.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "work_types.hpp"

namespace ktstr::agent {

using namespace protocol;  // the plan's types (apps/protocol/plan.hpp)

namespace {

constexpr int64_t kWaitSliceNs = 100'000'000;  // blocking waits re-check the stop flag

timespec to_timespec(int64_t ns) { return {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)}; }

/// Sleeps until the absolute deadline; false when the stop interrupted it.
bool sleep_until(WorkerContext& ctx, int64_t deadline_ns) {
  ctx.checkpoint(mono_ns());
  timespec ts = to_timespec(deadline_ns);
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR)
    if (ctx.stopping()) return false;
  ctx.woke(deadline_ns);
  return true;
}

bool write_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

void work_sleep(WorkerContext& ctx, int64_t sleep_ns) {
  while (!ctx.stopping())
    if (sleep_until(ctx, mono_ns() + sleep_ns)) ctx.add_units();
}

void work_mixed(WorkerContext& ctx, int64_t work_ns, int64_t sleep_ns) {
  while (!ctx.stopping()) {
    spin_until(ctx, mono_ns() + work_ns);
    sleep_until(ctx, mono_ns() + sleep_ns);
  }
}

void work_bursty(WorkerContext& ctx, int64_t burst_ns, int64_t idle_ns) {
  while (!ctx.stopping()) {
    spin_until(ctx, mono_ns() + burst_ns);
    sleep_until(ctx, mono_ns() + idle_ns);
  }
}

void work_fork_churn(WorkerContext& ctx) {
  while (!ctx.stopping()) {
    ctx.checkpoint(mono_ns());
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    if (child < 0) {
      timespec ts = to_timespec(1'000'000);  // EAGAIN: back off a millisecond
      ::nanosleep(&ts, nullptr);
      continue;
    }
    while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
    ctx.add_units();
    ctx.checkpoint(mono_ns());
  }
}

void work_pipe_pingpong(WorkerContext& ctx, const WorkerLaunch& launch) {
  // Each message is the sender's CLOCK_MONOTONIC at the post.
  if (launch.initiator) {
    int64_t now = mono_ns();
    if (!write_all(launch.pipe_out, &now, sizeof now)) return;
  }
  while (!ctx.stopping()) {
    ctx.checkpoint(mono_ns());
    pollfd p{launch.pipe_in, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(kWaitSliceNs / 1'000'000));
    if (r <= 0) continue;  // timeout or the stop signal
    int64_t posted = 0;
    ssize_t n = ::read(launch.pipe_in, &posted, sizeof posted);
    if (n == 0) {  // the partner is gone: wait for our own stop
      while (!ctx.stopping()) ::poll(nullptr, 0, 100);
      break;
    }
    if (n != sizeof posted) continue;
    ctx.woke(posted);
    ctx.add_units();
    int64_t now = mono_ns();
    if (!write_all(launch.pipe_out, &now, sizeof now)) break;
  }
}

void work_futex_pingpong(WorkerContext& ctx, const WorkerLaunch& launch) {
  PairShared* pair = launch.pair;
  const uint32_t me = launch.initiator ? 0 : 1;
  bool first = launch.initiator;  // the initiator's first turn had no post
  while (!ctx.stopping()) {
    ctx.checkpoint(mono_ns());
    while (pair->turn.load(std::memory_order_acquire) != me && !ctx.stopping())
      futex_wait(&pair->turn, 1 - me, kWaitSliceNs);
    if (ctx.stopping()) break;
    if (!first) ctx.woke(pair->post_ns[me].load(std::memory_order_relaxed));
    first = false;
    ctx.add_units();
    pair->post_ns[1 - me].store(mono_ns(), std::memory_order_relaxed);
    pair->turn.store(1 - me, std::memory_order_release);
    futex_wake(&pair->turn, 1);
  }
}

void work_test_block(WorkerContext& ctx) {
  // Ignores the stop: every catchable signal blocked, then waits forever.
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_BLOCK, &all, nullptr);
  ctx.add_units();
  ctx.checkpoint(mono_ns());
  for (;;) ::pause();
}

void run_work(WorkerContext& ctx, const WorkerLaunch& launch) {
  const auto& p = launch.spec.params;
  switch (launch.spec.type) {
    case WorkType::spin:
    case WorkType::rt_hog: return work_spin(ctx);
    case WorkType::yield: return work_yield(ctx);
    case WorkType::mixed: return work_mixed(ctx, p.work_us * 1000LL, p.sleep_us * 1000LL);
    case WorkType::sleep: return work_sleep(ctx, p.sleep_us * 1000LL);
    case WorkType::bursty: return work_bursty(ctx, p.burst_ms * 1'000'000LL, p.idle_ms * 1'000'000LL);
    case WorkType::pipe_pingpong: return work_pipe_pingpong(ctx, launch);
    case WorkType::futex_pingpong: return work_futex_pingpong(ctx, launch);
    case WorkType::cache_pressure: return work_cache_pressure(ctx, p.cache_kib);
    case WorkType::fork_churn: return work_fork_churn(ctx);
    case WorkType::nice_sweep: return work_nice_sweep(ctx);
    case WorkType::affinity_churn: return work_affinity_churn(ctx, launch);
    case WorkType::policy_churn: return work_policy_churn(ctx);
    case WorkType::test_block: return work_test_block(ctx);
  }
}

}  // namespace ktstr::agent
