#pragma once
// Per-thread perf counters for one vCPU thread (perf_event_open with pid = TID, cpu = -1).
// Every counter is opened on its own, so one the host cannot provide (no PMU: ENOENT,
// paranoid settings: EACCES) is listed as unavailable with the reason and the others
// still count. Hardware counters prefer guest-only counting (exclude_host) and fall back
// to host+guest where the kernel rejects that bit.
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kvm/fd.hpp"

namespace ktstr::kvm {

/// A counter that could not be opened or stopped being readable, and why.
struct CounterUnavailable {
  std::string name;
  std::string reason;
};

/// A counter that is open; guest_only says exclude_host was accepted.
struct CounterInfo {
  std::string name;
  bool guest_only = false;
};

struct CounterReading {
  std::string name;
  uint64_t value = 0;   ///< scaled by time_enabled / time_running when multiplexed
  bool scaled = false;  ///< the PMU multiplexed this counter: value is an estimate
};

struct PerfReading {
  std::vector<CounterReading> values;  ///< one per counter still open
  /// The thread is gone: values are final (newer kernels) or absent (older kernels
  /// return end-of-file), and no later read will change them.
  bool thread_exited = false;
};

/// How hardware counters treat time in the host (software counters are per thread anyway).
enum class CounterScope {
  guest_preferred,  ///< exclude_host=1 where accepted: count only while in the guest
  host_and_guest,   ///< everything the thread does (tests on a non-vCPU thread)
};

class PerfCounters {
 public:
  /// Opens every counter for `tid`; never throws for a counter the host lacks.
  PerfCounters(pid_t tid, CounterScope scope = CounterScope::guest_preferred);

  pid_t tid() const { return tid_; }
  std::vector<CounterInfo> available() const;
  const std::vector<CounterUnavailable>& unavailable() const { return unavailable_; }

  /// Why thread exit cannot be seen before a read hits end-of-file; empty when it can.
  const std::string& exit_watch_problem() const { return exit_watch_problem_; }

  /// Current values. A counter whose read fails is closed and moved to unavailable().
  PerfReading read();

 private:
  struct Counter {
    CounterInfo info;
    Fd fd;
  };
  struct PageUnmap {
    void operator()(void* page) const;
  };
  void open_exit_watch();

  pid_t tid_;
  std::vector<Counter> counters_;
  std::vector<CounterUnavailable> unavailable_;
  // A dummy event with its metadata page mapped: perf's poll() says POLLHUP for any
  // event without a ring buffer, but with one only once the monitored thread has exited.
  Fd exit_watch_;
  std::unique_ptr<void, PageUnmap> exit_watch_page_;
  std::string exit_watch_problem_;
};

}  // namespace ktstr::kvm
