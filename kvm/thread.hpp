#pragma once
// Placement and priority of the calling thread (vCPU threads, the sampler), and the
// conversion of durations to scheduler ticks.
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ktstr::kvm {

/// Why a requested CPU was left out of an affinity mask.
enum class CpuSkip {
  out_of_range,  ///< negative or beyond CPU_SETSIZE
  offline,       ///< not in /sys/devices/system/cpu/online
  not_allowed,   ///< online, but the kernel left it out (cpuset of this task)
};
const char* to_string(CpuSkip why);

struct SkippedCpu {
  int cpu;
  CpuSkip why;
};

struct CpuMaskResult {
  std::vector<int> applied;         ///< the calling thread's mask afterwards, ascending
  std::vector<SkippedCpu> skipped;  ///< requested CPUs it does not contain, and why
};

/// CPUs the kernel reports online (/sys/devices/system/cpu/online); empty if unreadable.
std::vector<int> online_cpus();

/// Restricts the calling thread to the usable CPUs among `cpus`; the others are
/// skipped and reported. Throws Error{system}, leaving the mask untouched, when no
/// requested CPU is usable.
CpuMaskResult set_thread_cpus(std::span<const int> cpus);
/// Pins the calling thread to `cpu`. Throws Error{system} if that CPU is not usable.
void pin_thread(int cpu);

enum class FifoStatus {
  applied,        ///< the thread now runs SCHED_FIFO at the priority asked
  no_permission,  ///< EPERM: no CAP_SYS_NICE (and RLIMIT_RTPRIO too low); unchanged
};

struct FifoResult {
  FifoStatus status = FifoStatus::applied;
  std::string warning;  ///< empty when applied; what to grant otherwise
};

/// Moves the calling thread to SCHED_FIFO at `priority`. A missing privilege is a
/// status (logged as a warning), not an exception; a priority outside
/// sched_get_priority_min/max(SCHED_FIFO) or any other failure throws Error{system}.
FifoResult set_thread_fifo(int priority);

/// Jiffies at `hz` per second covering `d`, rounded up so any positive duration is at
/// least one jiffy (1 ms at HZ=250 is 1); zero and negative durations give 0.
/// `hz` is a parameter because the kernel's CONFIG_HZ is not exposed to userspace:
/// pass the (guest) kernel's configured HZ for jiffies, or user_hz() for the clock
/// ticks of /proc/<pid>/stat and times(2). Throws std::invalid_argument unless
/// 1 <= hz <= 1'000'000'000.
uint64_t to_jiffies(std::chrono::nanoseconds d, uint64_t hz);
/// The duration of `jiffies` at `hz` per second, rounded down to the nanosecond
/// (saturating). Same `hz` contract as to_jiffies.
std::chrono::nanoseconds from_jiffies(uint64_t jiffies, uint64_t hz);

/// sysconf(_SC_CLK_TCK): USER_HZ, the fixed unit of tick counts the kernel exports
/// (100 on x86 whatever CONFIG_HZ is). It is not the kernel's HZ.
uint64_t user_hz();

/// Host CPU time a thread of this process has run so far, in ns (the first field of
/// /proc/self/task/TID/schedstat); 0 when it cannot be read (thread gone, no schedstat).
uint64_t thread_run_ns(int tid);

}  // namespace ktstr::kvm
