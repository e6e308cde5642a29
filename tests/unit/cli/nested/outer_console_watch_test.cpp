#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "apps/cli/nested/outer_console_watch.hpp"

using namespace ktstr::cli;
namespace fs = std::filesystem;

TEST_CASE("outer-kernel trouble lines are recognised, ordinary boot lines are not") {
  CHECK(is_outer_kernel_trouble("[  812.1] watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [qemu:101]"));
  CHECK(is_outer_kernel_trouble("[  900.0] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:"));
  CHECK(is_outer_kernel_trouble("[ 1200.0] INFO: task kworker/0:1:12 blocked for more than 120 seconds."));
  CHECK(is_outer_kernel_trouble("[    9.0] Oops: 0000 [#1] PREEMPT SMP NOPTI"));
  CHECK_FALSE(is_outer_kernel_trouble("[    5.337] ktstr-nested-init: modules loaded, /dev/kvm present"));
  CHECK_FALSE(is_outer_kernel_trouble("[    0.1] rcu: Preemptible hierarchical RCU implementation."));
}

TEST_CASE("the watch reports only new trouble lines, across partial writes, and caps its reports") {
  const fs::path log = fs::temp_directory_path() / "ktstr-outer-watch-test.log";
  std::ofstream(log, std::ios::trunc) << "boot line\n[1] watchdog: BUG: soft lock";
  OuterConsoleWatch watch(log, 2);
  CHECK(watch.poll().empty());  // the trouble line is not complete yet
  std::ofstream(log, std::ios::app) << "up - CPU#0 stuck for 22s!\nok\n";
  auto first = watch.poll();
  REQUIRE(first.size() == 1);
  CHECK(first[0] == "[1] watchdog: BUG: soft lockup - CPU#0 stuck for 22s!");
  CHECK(watch.poll().empty());  // nothing new
  std::ofstream(log, std::ios::app) << "a Oops: 1\nb Oops: 2\nc Oops: 3\n";
  CHECK(watch.poll().size() == 1);  // capped at 2 reports in all
  CHECK(watch.trouble_lines() == 4);
  fs::remove(log);
}

TEST_CASE("a missing console log is not an error") {
  OuterConsoleWatch watch("/nonexistent/ktstr-console.log");
  CHECK(watch.poll().empty());
}

TEST_CASE("a long outer soft lockup or an outer panic marks the nested host broken") {
  CHECK(soft_lockup_seconds("[448.3] watchdog: BUG: soft lockup - CPU#0 stuck for 391s! [swapper/0:0]") == 391u);
  CHECK_FALSE(soft_lockup_seconds("[1.0] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:").has_value());
  const std::filesystem::path log = std::filesystem::temp_directory_path() / "ktstr-outer-broken-test.log";
  std::ofstream(log, std::ios::trunc) << "[56.3] watchdog: BUG: soft lockup - CPU#1 stuck for 26s! [kworker/1:1:75]\n";
  OuterConsoleWatch watch(log, 20, 120);
  watch.poll();
  CHECK_FALSE(watch.broken().has_value());  // short lockups happen on a busy emulated host
  std::ofstream(log, std::ios::app) << "[168.3] watchdog: BUG: soft lockup - CPU#1 stuck for 130s! [kworker/1:1:75]\n";
  watch.poll();
  REQUIRE(watch.broken().has_value());
  CHECK_THAT(*watch.broken(), Catch::Contains("stuck for 130s"));

  std::ofstream(log, std::ios::trunc) << "[283.6] Kernel panic - not syncing: Fatal exception in interrupt\n";
  OuterConsoleWatch panicked(log);
  panicked.poll();
  CHECK(panicked.broken().has_value());
  std::filesystem::remove(log);
}

TEST_CASE("a nested host console silent for too long marks the host broken, output resets the clock") {
  using namespace std::chrono;
  const std::filesystem::path log = std::filesystem::temp_directory_path() / "ktstr-outer-silent-test.log";
  std::ofstream(log, std::ios::trunc) << "[1.0] ktstr-nested-init: running ctest\n";
  OuterConsoleWatch watch(log);
  const auto t0 = steady_clock::now();
  watch.poll();
  watch.check_silence(t0, 150);
  watch.check_silence(t0 + seconds(100), 150);
  CHECK_FALSE(watch.broken().has_value());
  std::ofstream(log, std::ios::app) << "[11.0] ktstr-nested-init: alive\n";
  watch.poll();
  watch.check_silence(t0 + seconds(140), 150);  // grew: the clock restarts here
  watch.check_silence(t0 + seconds(280), 150);
  CHECK_FALSE(watch.broken().has_value());
  watch.check_silence(t0 + seconds(290), 150);
  REQUIRE(watch.broken().has_value());
  CHECK_THAT(*watch.broken(), Catch::Contains("no output at all"));
  std::filesystem::remove(log);
}
