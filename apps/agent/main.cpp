// ktstr-agent: PID 1 of the test VM. Mounts what it needs, reports boot, kernel and
// CPU topology on COM2, runs the scenario plan if there is one, runs the test hooks and
// powers the VM off. Every path, including every error, ends in power_off(): init must
// never exit.
//
// Host test mode (not PID 1): KTSTR_AGENT_PLAN=/path/plan.json ktstr-agent runs that plan
// on this machine with the events on stdout and scheduler output on stderr
// (KTSTR_AGENT_CGROUP_ROOT overrides /sys/fs/cgroup; SIGINT acts as the host's stop).
#include <fcntl.h>
#include <signal.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

#include "agent_channel.hpp"
#include "apps/protocol/guest_paths.hpp"
#include "cpu_topology.hpp"
#include "mounts.hpp"
#include "power.hpp"
#include "scenario_runner.hpp"
#include "sysfs_text.hpp"
#include "test_hooks.hpp"

using namespace ktstr::agent;
namespace protocol = ktstr::protocol;

namespace {

// The kernel gives init /dev/console as fds 0-2 only if the initramfs has that node.
// Fill the gaps so the channel never lands on fd 2, where stderr copies would go.
void occupy_standard_fds() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) >= 0) continue;
    int opened = ::open("/dev/null", O_RDWR);
    if (opened >= 0 && opened != fd) {
      ::dup2(opened, fd);
      ::close(opened);
    }
  }
}

double uptime_seconds() {
  if (auto text = read_text("/proc/uptime")) {
    char* end = nullptr;
    double value = std::strtod(text->c_str(), &end);
    if (end != text->c_str()) return value;
  }
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

protocol::KernelInfo kernel_info(const std::optional<std::string>& cmdline) {
  utsname uts{};
  ::uname(&uts);
  return {0, uts.release, uts.version, uts.machine, cmdline, path_exists("/sys/kernel/sched_ext")};
}

const std::string kPlanPath(protocol::kGuestPlanPath);

protocol::Heartbeat heartbeat() { return {0, uptime_seconds()}; }

// The scenario runs on this thread; a monitor thread keeps the heartbeat coming every
// second and is the only reader of the host's stop line (protocol::kStopCommand -> stop flag).
void run_plan(AgentChannel& channel, const std::string& plan_text, const ScenarioOptions& options,
              std::atomic<bool>& stop) {
  std::atomic<bool> finished{false};
  std::thread monitor([&] {
    while (!finished) {
      for (int slice = 0; slice < 10 && !finished; ++slice)
        if (channel.wait_for_stop(100)) stop = true;
      if (!finished) channel.emit(heartbeat());
    }
  });
  run_scenario(plan_text, channel, stop, options);
  finished = true;
  monitor.join();
}

std::atomic<bool> g_host_stop{false};

int run_test_mode(const char* plan_path, AgentChannel& channel) {
  channel.open_stdout();
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_host_stop = true; };
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  auto text = read_text(plan_path, 16 * 1024 * 1024);
  if (!text) {
    channel.emit_error(std::string("cannot read ") + plan_path);
    return 1;
  }
  ScenarioOptions options;
  if (const char* root = std::getenv("KTSTR_AGENT_CGROUP_ROOT")) options.cgroup_root = root;
  options.console_fd = STDERR_FILENO;
  run_plan(channel, *text, options, g_host_stop);
  return 0;
}

void run(AgentChannel& channel) {
  auto mount_errors = mount_pseudo_filesystems();
  occupy_standard_fds();
  auto channel_error = channel.open();

  channel.emit(protocol::BootDone{0, uptime_seconds()});
  if (channel_error) channel.emit_error(*channel_error);
  for (const auto& error : mount_errors) channel.emit_error(error);

  auto cmdline = read_text("/proc/cmdline");
  if (!cmdline) channel.emit_error("cannot read /proc/cmdline");
  auto hooks = parse_test_hooks(cmdline.value_or(""));
  for (const auto& error : hooks.errors) channel.emit_error(error);
  if (hooks.panic) channel.emit_error("ktstr.test_panic=1: " + crash_kernel());

  channel.emit(kernel_info(cmdline));
  channel.emit(observe_topology());

  // A hung guest userspace: no output, no answer to the host. Only the watchdog ends it.
  while (hooks.hang) ::pause();

  if (path_exists(kPlanPath)) {
    auto text = read_text(kPlanPath, 16 * 1024 * 1024);
    if (!text) {
      channel.emit_error("cannot read " + kPlanPath);
      channel.emit(protocol::ScenarioDone{0, 0, {"cannot read " + kPlanPath}});
      return;
    }
    ScenarioOptions options;
    options.console_fd = ::open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (options.console_fd < 0) options.console_fd = STDERR_FILENO;
    options.kill_scheduler_ms = hooks.kill_scheduler_ms;
    std::atomic<bool> stop{false};
    run_plan(channel, *text, options, stop);
    return;  // the scenario replaces the hold: power off now
  }

  for (uint32_t s = 0; s < hooks.hold_s; ++s) {
    if (channel.wait_for_stop(1000)) return;  // the host's soft deadline: power off now
    channel.emit(heartbeat());
  }
}

}  // namespace

int main() {
  AgentChannel channel;
  if (::getpid() != 1) {
    const char* plan = std::getenv("KTSTR_AGENT_PLAN");
    if (!plan) {
      std::fprintf(stderr, "ktstr-agent: not PID 1; set KTSTR_AGENT_PLAN=/path/plan.json to run a plan on this machine\n");
      return 2;
    }
    try {
      return run_test_mode(plan, channel);
    } catch (const std::exception& e) {
      channel.emit_error(std::string("agent failed: ") + e.what());
      return 1;
    }
  }
  try {
    run(channel);
  } catch (const std::exception& e) {
    channel.emit_error(std::string("agent failed: ") + e.what());
  } catch (...) {
    channel.emit_error("agent failed with an unknown exception");
  }
  power_off(channel);
}
