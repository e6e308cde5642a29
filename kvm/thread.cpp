#include "kvm/thread.hpp"

#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "kvm/error.hpp"

namespace ktstr::kvm {

namespace {

constexpr uint64_t kNsPerSecond = 1'000'000'000;

// "0-3,5,7-8" as in /sys/devices/system/cpu/online (cpulist format).
std::vector<int> parse_cpu_list(const std::string& text) {
  std::vector<int> cpus;
  std::stringstream in(text);
  std::string range;
  while (std::getline(in, range, ',')) {
    if (range.empty() || range == "\n") continue;
    int first = 0, last = 0;
    char dash = 0;
    std::stringstream r(range);
    if (!(r >> first)) continue;
    last = first;
    if (r >> dash && dash == '-' && !(r >> last)) continue;
    for (int cpu = first; cpu <= last; ++cpu) cpus.push_back(cpu);
  }
  return cpus;
}

std::vector<int> thread_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (int err = ::pthread_getaffinity_np(::pthread_self(), sizeof set, &set); err != 0) {
    errno = err;
    throw_errno(ErrorKind::system, "pthread_getaffinity_np");
  }
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  return cpus;
}

std::string describe(const std::vector<SkippedCpu>& skipped) {
  std::string out;
  for (const auto& s : skipped) {
    if (!out.empty()) out += ", ";
    out += std::to_string(s.cpu) + " (" + to_string(s.why) + ")";
  }
  return out.empty() ? "none requested" : out;
}

void check_hz(uint64_t hz) {
  // Above 1 GHz a tick is shorter than the nanosecond this API counts in.
  if (hz == 0 || hz > kNsPerSecond) throw std::invalid_argument("HZ must be in 1..1e9, got " + std::to_string(hz));
}

}  // namespace

const char* to_string(CpuSkip why) {
  switch (why) {
    case CpuSkip::out_of_range: return "out of range";
    case CpuSkip::offline: return "offline";
    case CpuSkip::not_allowed: return "not allowed";
  }
  return "?";
}

std::vector<int> online_cpus() {
  std::ifstream in("/sys/devices/system/cpu/online");
  std::string text;
  if (!std::getline(in, text)) return {};
  return parse_cpu_list(text);
}

CpuMaskResult set_thread_cpus(std::span<const int> cpus) {
  CpuMaskResult result;
  const auto online = online_cpus();
  auto is_online = [&](int cpu) {
    // Without sysfs, let the kernel be the judge (it rejects offline CPUs too).
    return online.empty() || std::find(online.begin(), online.end(), cpu) != online.end();
  };
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> wanted;
  for (int cpu : cpus) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) result.skipped.push_back({cpu, CpuSkip::out_of_range});
    else if (!is_online(cpu)) result.skipped.push_back({cpu, CpuSkip::offline});
    else if (!CPU_ISSET(cpu, &set)) {
      CPU_SET(cpu, &set);
      wanted.push_back(cpu);
    }
  }
  if (wanted.empty())
    throw Error(ErrorKind::system, "refusing an empty CPU mask; skipped: " + describe(result.skipped));
  // The kernel intersects the mask with the task's cpuset and fails (changing
  // nothing) with EINVAL when nothing is left, so the mask is never applied empty.
  if (int err = ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set); err != 0) {
    if (err == EINVAL) {
      for (int cpu : wanted) result.skipped.push_back({cpu, CpuSkip::not_allowed});
      throw Error(ErrorKind::system, "refusing an empty CPU mask; skipped: " + describe(result.skipped));
    }
    errno = err;
    throw_errno(ErrorKind::system, "pthread_setaffinity_np");
  }
  result.applied = thread_cpus();
  for (int cpu : wanted)
    if (!std::binary_search(result.applied.begin(), result.applied.end(), cpu))
      result.skipped.push_back({cpu, CpuSkip::not_allowed});
  return result;
}

void pin_thread(int cpu) {
  const int one[] = {cpu};
  auto result = set_thread_cpus(one);
  if (result.applied != std::vector<int>{cpu})
    throw Error(ErrorKind::system, "pinning to CPU " + std::to_string(cpu) + " left the thread on other CPUs");
}

FifoResult set_thread_fifo(int priority) {
  const int min = ::sched_get_priority_min(SCHED_FIFO), max = ::sched_get_priority_max(SCHED_FIFO);
  if (priority < min || priority > max)
    throw Error(ErrorKind::system, "SCHED_FIFO priority " + std::to_string(priority) + " outside " +
                                       std::to_string(min) + ".." + std::to_string(max));
  sched_param param{};
  param.sched_priority = priority;
  const int err = ::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &param);
  if (err == 0) return {};
  if (err == EPERM) {
    FifoResult result{FifoStatus::no_permission,
                      "SCHED_FIFO priority " + std::to_string(priority) +
                          " refused (EPERM): grant CAP_SYS_NICE or raise RLIMIT_RTPRIO; the thread keeps its "
                          "current policy, so timing results may be noisier"};
    spdlog::warn("{}", result.warning);
    return result;
  }
  errno = err;
  throw_errno(ErrorKind::system, "pthread_setschedparam(SCHED_FIFO, " + std::to_string(priority) + ")");
}

uint64_t to_jiffies(std::chrono::nanoseconds d, uint64_t hz) {
  check_hz(hz);
  if (d.count() <= 0) return 0;
  // Split at the second so neither product overflows: whole * hz <= 9.3e9 * 1e9.
  const auto ns = static_cast<uint64_t>(d.count());
  const uint64_t whole = ns / kNsPerSecond, part = ns % kNsPerSecond;
  return whole * hz + (part * hz + kNsPerSecond - 1) / kNsPerSecond;
}

std::chrono::nanoseconds from_jiffies(uint64_t jiffies, uint64_t hz) {
  check_hz(hz);
  using rep = std::chrono::nanoseconds::rep;
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<rep>::max());
  const uint64_t whole = jiffies / hz, part = jiffies % hz;
  if (whole > kMax / kNsPerSecond) return std::chrono::nanoseconds::max();
  const uint64_t ns = whole * kNsPerSecond + part * kNsPerSecond / hz;
  return std::chrono::nanoseconds(static_cast<rep>(std::min(ns, kMax)));
}

uint64_t user_hz() {
  const long ticks = ::sysconf(_SC_CLK_TCK);
  if (ticks <= 0) throw_errno(ErrorKind::system, "sysconf(_SC_CLK_TCK)");
  return static_cast<uint64_t>(ticks);
}

uint64_t thread_run_ns(int tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/schedstat");
  unsigned long long ns = 0;
  if (!(in >> ns)) return 0;
  return ns;
}

}  // namespace ktstr::kvm
