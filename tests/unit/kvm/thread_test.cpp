#include <catch2/catch.hpp>

#include <linux/capability.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <stdexcept>
#include <thread>

#include "kvm/error.hpp"
#include "kvm/thread.hpp"

using namespace ktstr::kvm;
using namespace std::chrono_literals;

namespace {

std::vector<int> affinity() {
  cpu_set_t set;
  CPU_ZERO(&set);
  REQUIRE(::sched_getaffinity(0, sizeof set, &set) == 0);
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  return cpus;
}

/// Runs `body` on a fresh thread so placement and policy changes die with it; an
/// exception it throws is rethrown on the test thread.
template <typename Body>
void on_own_thread(Body body) {
  std::exception_ptr error;
  std::thread t([&] {
    try {
      body();
    } catch (...) {
      error = std::current_exception();
    }
  });
  t.join();
  if (error) std::rethrow_exception(error);
}

bool skipped_as(const CpuMaskResult& r, int cpu, CpuSkip why) {
  return std::any_of(r.skipped.begin(), r.skipped.end(), [&](const SkippedCpu& s) { return s.cpu == cpu && s.why == why; });
}

/// Drops CAP_SYS_NICE from the calling thread only (capabilities are per thread).
bool drop_sys_nice_in_this_thread() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  data[0].effective &= ~(1u << CAP_SYS_NICE);
  data[0].permitted &= ~(1u << CAP_SYS_NICE);
  return ::syscall(SYS_capset, &header, data) == 0;
}

}  // namespace

TEST_CASE("pin_thread leaves the calling thread on exactly that CPU") {
  const auto allowed = affinity();
  REQUIRE_FALSE(allowed.empty());
  for (int cpu : allowed) {
    std::vector<int> after;
    int running_on = -1;
    on_own_thread([&] {
      pin_thread(cpu);
      after = affinity();
      running_on = ::sched_getcpu();
    });
    CHECK(after == std::vector<int>{cpu});
    CHECK(running_on == cpu);
  }
}

TEST_CASE("set_thread_cpus applies the usable CPUs and reports the skipped ones with why") {
  const auto allowed = affinity();
  const auto online = online_cpus();
  REQUIRE_FALSE(online.empty());
  const int offline = online.back() + 1;  // CPU ids past the last online one are not online
  REQUIRE(offline < CPU_SETSIZE);
  std::vector<int> request = allowed;
  request.insert(request.end(), {-1, offline, CPU_SETSIZE + 3, allowed.front()});
  CpuMaskResult result;
  std::vector<int> after;
  on_own_thread([&] {
    result = set_thread_cpus(request);
    after = affinity();
  });
  CHECK(result.applied == allowed);
  CHECK(after == allowed);
  CHECK(result.skipped.size() == 3);  // the duplicate is neither applied twice nor skipped
  CHECK(skipped_as(result, -1, CpuSkip::out_of_range));
  CHECK(skipped_as(result, CPU_SETSIZE + 3, CpuSkip::out_of_range));
  CHECK(skipped_as(result, offline, CpuSkip::offline));
}

TEST_CASE("set_thread_cpus refuses a mask with no usable CPU and leaves the old one in place") {
  const int first = affinity().front();
  const int offline = online_cpus().back() + 1;
  std::vector<int> after;
  bool threw_bad = false, threw_empty = false;
  on_own_thread([&] {
    pin_thread(first);
    const int bad[] = {-5, offline};
    try {
      set_thread_cpus(bad);
    } catch (const Error&) {
      threw_bad = true;
    }
    try {
      set_thread_cpus({});
    } catch (const Error&) {
      threw_empty = true;
    }
    after = affinity();
  });
  CHECK(threw_bad);
  CHECK(threw_empty);
  CHECK(after == std::vector<int>{first});
}

TEST_CASE("set_thread_fifo applies SCHED_FIFO when permitted and reports a missing CAP_SYS_NICE otherwise") {
  FifoResult result;
  int policy = -1;
  sched_param param{};
  on_own_thread([&] {
    result = set_thread_fifo(1);
    ::pthread_getschedparam(::pthread_self(), &policy, &param);
  });
  if (result.status == FifoStatus::applied) {
    CHECK(policy == SCHED_FIFO);
    CHECK(param.sched_priority == 1);
    CHECK(result.warning.empty());
  } else {
    CHECK(result.status == FifoStatus::no_permission);
    CHECK(policy == SCHED_OTHER);
    CHECK(result.warning.find("CAP_SYS_NICE") != std::string::npos);
  }
}

TEST_CASE("set_thread_fifo without CAP_SYS_NICE returns no_permission and keeps the policy") {
  rlimit rtprio{};
  REQUIRE(::getrlimit(RLIMIT_RTPRIO, &rtprio) == 0);
  if (rtprio.rlim_cur != 0) {
    WARN("RLIMIT_RTPRIO is " << rtprio.rlim_cur << ": SCHED_FIFO is allowed without CAP_SYS_NICE here");
    return;
  }
  bool dropped = false;
  FifoResult result;
  int policy = -1;
  sched_param param{};
  on_own_thread([&] {
    dropped = drop_sys_nice_in_this_thread();
    if (!dropped) return;
    result = set_thread_fifo(10);
    ::pthread_getschedparam(::pthread_self(), &policy, &param);
  });
  REQUIRE(dropped);
  CHECK(result.status == FifoStatus::no_permission);
  CHECK(result.warning.find("CAP_SYS_NICE") != std::string::npos);
  CHECK(policy == SCHED_OTHER);
}

TEST_CASE("set_thread_fifo throws for a priority outside the SCHED_FIFO range") {
  CHECK_THROWS_AS(set_thread_fifo(0), Error);
  CHECK_THROWS_AS(set_thread_fifo(::sched_get_priority_max(SCHED_FIFO) + 1), Error);
}

TEST_CASE("to_jiffies rounds up so no positive duration becomes zero") {
  CHECK(to_jiffies(0ns, 250) == 0);
  CHECK(to_jiffies(-5ms, 250) == 0);
  CHECK(to_jiffies(1ns, 1000) == 1);
  CHECK(to_jiffies(1ms, 250) == 1);
  CHECK(to_jiffies(4ms, 250) == 1);
  CHECK(to_jiffies(4ms + 1ns, 250) == 2);
  CHECK(to_jiffies(10ms, 100) == 1);
  CHECK(to_jiffies(1s, 250) == 250);
  CHECK(to_jiffies(1500ms, 1000) == 1500);
  CHECK(to_jiffies(std::chrono::nanoseconds::max(), 1000) == 9'223'372'036'855ull);
  CHECK_THROWS_AS(to_jiffies(1ms, 0), std::invalid_argument);
}

TEST_CASE("from_jiffies is the exact duration of whole jiffies") {
  CHECK(from_jiffies(0, 250) == 0ns);
  CHECK(from_jiffies(1, 250) == 4ms);
  CHECK(from_jiffies(250, 250) == 1s);
  CHECK(from_jiffies(1, 300) == 3'333'333ns);
  CHECK(from_jiffies(to_jiffies(1ms, 250), 250) >= 1ms);
  CHECK(from_jiffies(~0ull, 1) == std::chrono::nanoseconds::max());
}

TEST_CASE("user_hz is sysconf(_SC_CLK_TCK), the USER_HZ of exported tick counts") {
  CHECK(user_hz() == static_cast<uint64_t>(::sysconf(_SC_CLK_TCK)));
  CHECK(to_jiffies(10ms, user_hz()) >= 1);
}
