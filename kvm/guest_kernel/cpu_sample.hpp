#pragma once
// One look at guest scheduler state, read from guest memory without stopping the guest
// (lock-free, so any value may be torn: each is bounds-checked and may come back
// unreadable). Plain structs: messages/monitor.hpp makes them messages.
#include <cstdint>
#include <string>
#include <vector>

namespace ktstr::guest_kernel {

/// A value read from the guest, or not (absent from this kernel, or unreadable this time).
struct Reading {
  uint64_t value = 0;
  bool ok = false;
};

struct TaskSummary {
  bool ok = false;  ///< false: the pointer or the task could not be read
  int32_t pid = 0;
  std::string comm;  ///< printable characters only, at most 15
  uint32_t policy = 0;
};

/// A sched_ext task on rq->scx.runnable_list (runnable, not running).
struct RunnableTask {
  int32_t pid = 0;
  std::string comm;
  uint64_t runnable_at = 0;  ///< jiffies
};

struct CpuSample {
  uint32_t cpu = 0;
  Reading nr_running, cfs_h_nr_queued, scx_nr_running, local_dsq_nr, scx_flags, clock;
  TaskSummary curr;
  bool runnable_ok = false;         ///< the runnable list was walked to its end
  bool runnable_truncated = false;  ///< the walk stopped at its bound
  std::vector<RunnableTask> runnable;
};

/// Global sched_ext state and the clock its watchdog uses.
struct ScxGlobals {
  Reading jiffies;
  Reading enable_state;      ///< scx_ops_enable_state: 0 ENABLING 1 ENABLED 2 DISABLING 3 DISABLED
  Reading exit_kind;         ///< scx_exit_kind (1 = DONE when no scheduler ever ran)
  Reading watchdog_timeout;  ///< jiffies, 0 until the first enable
  bool ops_name_ok = false;
  std::string ops_name;      ///< the attached ops' name, "" when none
};

/// struct scx_exit_info as read from the guest: why the scheduler exited, written by the
/// kernel when it claims the exit (kind, message, backtrace) and freed at the end of the
/// disable; `unavailable` says why it could not be read (none allocated, freed, torn).
struct ScxExitInfo {
  bool ok = false;
  std::string unavailable;
  uint64_t kind = 0;
  int64_t exit_code = 0;
  std::string reason;                ///< e.g. "runnable task stall"
  std::string msg;                   ///< e.g. "init[1] failed to run for 7.552s"
  std::vector<uint64_t> backtrace;   ///< return addresses, as the kernel saved them (at most 64)
};

}  // namespace ktstr::guest_kernel
