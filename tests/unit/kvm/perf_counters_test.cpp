#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "kvm/perf_counters.hpp"
#include "tests/support/worker_thread.hpp"

using namespace ktstr::kvm;
using ktstr::test::WorkerThread;

namespace {

const char* const kHardware[] = {"cycles", "instructions", "cache-misses", "branch-misses"};
const char* const kSoftware[] = {"task-clock", "context-switches", "cpu-migrations"};

bool is_available(const PerfCounters& c, const std::string& name) {
  auto a = c.available();
  return std::any_of(a.begin(), a.end(), [&](const CounterInfo& i) { return i.name == name; });
}

const CounterUnavailable* find_unavailable(const PerfCounters& c, const std::string& name) {
  for (const auto& u : c.unavailable())
    if (u.name == name) return &u;
  return nullptr;
}

std::optional<uint64_t> value_of(const PerfReading& r, const std::string& name) {
  for (const auto& v : r.values)
    if (v.name == name) return v.value;
  return std::nullopt;
}

/// Counter `name` across `wait`, from two reads of `c`.
uint64_t delta_over(PerfCounters& c, const std::string& name, std::chrono::milliseconds wait) {
  auto before = value_of(c.read(), name);
  std::this_thread::sleep_for(wait);
  auto after = value_of(c.read(), name);
  REQUIRE(before);
  REQUIRE(after);
  return *after - *before;
}

/// Reads until the kernel reports the thread gone: pthread_join returns before the kernel
/// has finished the thread's exit, perf included.
PerfReading read_until_exited(PerfCounters& c) {
  PerfReading r = c.read();
  for (int i = 0; i < 400 && !r.thread_exited; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    r = c.read();
  }
  return r;
}

/// Waits until the TID has left /proc (the thread is reaped), so a lookup of it fails.
bool wait_reaped(pid_t tid) {
  const auto path = "/proc/self/task/" + std::to_string(tid);
  for (int i = 0; i < 400 && std::filesystem::exists(path); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return !std::filesystem::exists(path);
}

}  // namespace

TEST_CASE("task-clock advances while the observed thread spins") {
  WorkerThread spinner(WorkerThread::Mode::spin);
  PerfCounters counters(spinner.tid(), CounterScope::host_and_guest);
  REQUIRE(is_available(counters, "task-clock"));
  // 200 ms of spinning on a shared 2-core machine: at least 10 ms of CPU is certain.
  CHECK(delta_over(counters, "task-clock", std::chrono::milliseconds(200)) > 10'000'000);
}

TEST_CASE("context-switches advance while the observed thread sleeps in a loop") {
  WorkerThread sleeper(WorkerThread::Mode::sleep_loop);
  PerfCounters counters(sleeper.tid(), CounterScope::host_and_guest);
  REQUIRE(is_available(counters, "context-switches"));
  // About 200 one-millisecond sleeps, each a voluntary switch; 10 leaves room for a slow host.
  CHECK(delta_over(counters, "context-switches", std::chrono::milliseconds(200)) >= 10);
}

TEST_CASE("each counter is either counting or listed unavailable with a reason, never both") {
  WorkerThread spinner(WorkerThread::Mode::spin);
  for (auto scope : {CounterScope::host_and_guest, CounterScope::guest_preferred}) {
    PerfCounters counters(spinner.tid(), scope);
    CHECK(counters.available().size() + counters.unavailable().size() == 7);
    for (const char* name : kHardware) {
      INFO("counter " << name << (scope == CounterScope::guest_preferred ? " (guest preferred)" : ""));
      const auto* missing = find_unavailable(counters, name);
      CHECK(is_available(counters, name) != (missing != nullptr));
      if (missing) CHECK_FALSE(missing->reason.empty());
      // Host-side counting of a spinning thread must move; guest-only counting of a thread
      // that never enters a guest legitimately stays at zero.
      if (!missing && scope == CounterScope::host_and_guest)
        CHECK(delta_over(counters, name, std::chrono::milliseconds(50)) > 0);
    }
    for (const char* name : kSoftware) {
      INFO("counter " << name);
      CHECK(is_available(counters, name));  // software counters work on every host we know
    }
  }
}

TEST_CASE("hardware counters prefer guest-only counting where the kernel accepts it") {
  WorkerThread spinner(WorkerThread::Mode::spin);
  PerfCounters counters(spinner.tid(), CounterScope::guest_preferred);
  for (const auto& info : counters.available()) {
    const bool hardware = std::any_of(std::begin(kHardware), std::end(kHardware),
                                      [&](const char* n) { return info.name == n; });
    INFO("counter " << info.name);
    if (!hardware) CHECK_FALSE(info.guest_only);  // software counters are per thread anyway
  }
  PerfCounters host(spinner.tid(), CounterScope::host_and_guest);
  for (const auto& info : host.available()) CHECK_FALSE(info.guest_only);
}

TEST_CASE("counters for a thread that no longer exists are unavailable with ESRCH, reads return nothing") {
  pid_t gone;
  {
    WorkerThread t(WorkerThread::Mode::sleep_loop);
    gone = t.tid();
  }
  REQUIRE(wait_reaped(gone));
  PerfCounters counters(gone);
  CHECK(counters.available().empty());
  CHECK(counters.unavailable().size() == 7);
  for (const char* name : kSoftware) {
    const auto* u = find_unavailable(counters, name);
    REQUIRE(u);
    CHECK(u->reason.find("ESRCH") != std::string::npos);
  }
  auto reading = counters.read();
  CHECK(reading.values.empty());
}

TEST_CASE("a thread that exits after its counters were opened reads as exited with final values") {
  WorkerThread spinner(WorkerThread::Mode::spin);
  PerfCounters counters(spinner.tid(), CounterScope::host_and_guest);
  CHECK(counters.exit_watch_problem().empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(counters.read().thread_exited);
  spinner.stop();
  auto first = read_until_exited(counters);
  CHECK(first.thread_exited);
  // Newer kernels keep the final values readable, older ones return end-of-file: both are
  // reported as an exit, and neither is a read failure.
  for (const auto& u : counters.unavailable()) CHECK(u.reason.rfind("read failed", 0) != 0);
  auto second = counters.read();
  CHECK(second.thread_exited);
  auto a = value_of(first, "task-clock"), b = value_of(second, "task-clock");
  if (a && b) CHECK(*a == *b);
}

TEST_CASE("a TID of zero or below is refused rather than counting the calling thread") {
  for (pid_t tid : {0, -1}) {
    PerfCounters counters(tid);
    CHECK(counters.available().empty());
    REQUIRE(counters.unavailable().size() == 7);
    CHECK(counters.unavailable()[0].reason == "invalid TID " + std::to_string(tid));
  }
}
