#include "kvm/perf_counters.hpp"

#include <linux/perf_event.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ktstr::kvm {

namespace {

struct CounterSpec {
  const char* name;
  uint32_t type;
  uint64_t config;
};

// Names follow perf(1), so a reader can compare with `perf stat -e`.
constexpr CounterSpec kHardware[] = {
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    {"cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES},
    {"branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES},
};
constexpr CounterSpec kSoftware[] = {
    {"task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},  // nanoseconds on a CPU
    {"context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
    {"cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
};

// perf_event_open(2): without PERF_FORMAT_GROUP a read returns these three u64s in order.
struct ReadFormat {
  uint64_t value;
  uint64_t time_enabled;
  uint64_t time_running;
};

std::string errno_text(int err) {
  const char* name = ::strerrorname_np(err);
  std::string text = std::string(name ? name : "errno " + std::to_string(err)) + ": " + std::strerror(err);
  // The usual causes, so the report says what to do rather than only what failed.
  switch (err) {
    case ENOENT: return text + " (no PMU event of this kind on this CPU)";
    case EACCES:
    case EPERM: return text + " (kernel.perf_event_paranoid or missing CAP_PERFMON)";
    case ESRCH: return text + " (the thread does not exist)";
    case EOPNOTSUPP: return text + " (the PMU does not support this mode)";
    default: return text;
  }
}

int open_counter(const CounterSpec& spec, pid_t tid, bool exclude_host) {
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = spec.type;
  attr.config = spec.config;
  // Enabled from the start, so the first sample already covers the thread's first run.
  attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
  attr.exclude_host = exclude_host ? 1 : 0;
  return static_cast<int>(::syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

/// value * enabled / running without overflowing 64 bits.
uint64_t scale(uint64_t value, uint64_t enabled, uint64_t running) {
  if (running == 0) return 0;  // never on a PMU: nothing to extrapolate from
  return static_cast<uint64_t>(static_cast<unsigned __int128>(value) * enabled / running);
}

size_t page_size() { return static_cast<size_t>(::sysconf(_SC_PAGESIZE)); }

}  // namespace

void PerfCounters::PageUnmap::operator()(void* page) const { ::munmap(page, page_size()); }

void PerfCounters::open_exit_watch() {
  const CounterSpec dummy{"dummy", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_DUMMY};
  Fd fd(open_counter(dummy, tid_, false));
  if (!fd) {
    exit_watch_problem_ = "dummy event: " + errno_text(errno);
    return;
  }
  // One page: the metadata page alone, no sample buffer (0 data pages is allowed).
  void* page = ::mmap(nullptr, page_size(), PROT_READ, MAP_SHARED, fd.get(), 0);
  if (page == MAP_FAILED) {
    exit_watch_problem_ = "mmap of the metadata page: " + errno_text(errno);
    return;
  }
  exit_watch_page_.reset(page);
  exit_watch_ = std::move(fd);
}

PerfCounters::PerfCounters(pid_t tid, CounterScope scope) : tid_(tid) {
  // 0 would count the calling thread and -1 every thread: never what a caller meant.
  if (tid <= 0) {
    for (const auto& spec : kHardware) unavailable_.push_back({spec.name, "invalid TID " + std::to_string(tid)});
    for (const auto& spec : kSoftware) unavailable_.push_back({spec.name, "invalid TID " + std::to_string(tid)});
    return;
  }
  for (const auto& spec : kHardware) {
    int guest_err = 0;
    if (scope == CounterScope::guest_preferred) {
      Fd fd(open_counter(spec, tid, true));
      if (fd) {
        counters_.push_back({{spec.name, true}, std::move(fd)});
        continue;
      }
      guest_err = errno;
    }
    Fd fd(open_counter(spec, tid, false));
    if (fd) {
      counters_.push_back({{spec.name, false}, std::move(fd)});
      continue;
    }
    const int err = errno;
    std::string reason = errno_text(err);
    if (guest_err != 0 && guest_err != err)
      reason = "with exclude_host: " + errno_text(guest_err) + "; without: " + reason;
    unavailable_.push_back({spec.name, std::move(reason)});
  }
  for (const auto& spec : kSoftware) {
    Fd fd(open_counter(spec, tid, false));
    if (fd) counters_.push_back({{spec.name, false}, std::move(fd)});
    else unavailable_.push_back({spec.name, errno_text(errno)});
  }
  if (!counters_.empty()) open_exit_watch();
}

std::vector<CounterInfo> PerfCounters::available() const {
  std::vector<CounterInfo> out;
  for (const auto& c : counters_) out.push_back(c.info);
  return out;
}

PerfReading PerfCounters::read() {
  PerfReading out;
  // Asked before reading: if the thread is already gone, the values read next are final.
  if (exit_watch_) {
    pollfd p{exit_watch_.get(), POLLIN, 0};
    out.thread_exited = ::poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
  }
  for (auto it = counters_.begin(); it != counters_.end();) {
    ReadFormat raw{};
    ssize_t n;
    do n = ::read(it->fd.get(), &raw, sizeof(raw));
    while (n < 0 && errno == EINTR);
    if (n == 0) {  // end-of-file: how some kernels report an exited thread's counter
      out.thread_exited = true;
      ++it;
      continue;
    }
    if (n != static_cast<ssize_t>(sizeof(raw))) {
      std::string why = n < 0 ? errno_text(errno) : "short read of " + std::to_string(n) + " bytes";
      unavailable_.push_back({it->info.name, "read failed: " + why});
      it = counters_.erase(it);  // closes the fd: a broken counter is not read again
      continue;
    }
    const bool multiplexed = raw.time_running < raw.time_enabled;
    out.values.push_back({it->info.name, multiplexed ? scale(raw.value, raw.time_enabled, raw.time_running) : raw.value,
                          multiplexed});
    ++it;
  }
  return out;
}

}  // namespace ktstr::kvm
