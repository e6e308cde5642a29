// ktstr-agent: PID 1 of the test VM. Mounts what it needs, reports boot, kernel and
// CPU topology on COM2, runs the test hooks and powers the VM off. Every path,
// including every error, ends in power_off(): init must never exit.
#include <fcntl.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <exception>
#include <string>

#include "agent_channel.hpp"
#include "cpu_topology.hpp"
#include "mounts.hpp"
#include "power.hpp"
#include "sysfs_text.hpp"
#include "test_hooks.hpp"

using namespace ktstr::agent;

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

Json kernel_fields(const std::optional<std::string>& cmdline) {
  utsname uts{};
  ::uname(&uts);
  return Json{
      {"release", uts.release},
      {"version", uts.version},
      {"machine", uts.machine},
      {"cmdline", cmdline ? Json(*cmdline) : Json(nullptr)},
      {"sched_ext", path_exists("/sys/kernel/sched_ext")},
  };
}

void run(AgentChannel& channel) {
  auto mount_errors = mount_pseudo_filesystems();
  occupy_standard_fds();
  auto channel_error = channel.open();

  channel.emit("boot_done", Json{{"uptime_s", uptime_seconds()}});
  if (channel_error) channel.emit_error(*channel_error);
  for (const auto& error : mount_errors) channel.emit_error(error);

  auto cmdline = read_text("/proc/cmdline");
  if (!cmdline) channel.emit_error("cannot read /proc/cmdline");
  auto hooks = parse_test_hooks(cmdline.value_or(""));
  for (const auto& error : hooks.errors) channel.emit_error(error);
  if (hooks.panic) channel.emit_error("ktstr.test_panic=1: " + crash_kernel());

  channel.emit("kernel", kernel_fields(cmdline));
  channel.emit("topology", topology_fields());

  // A hung guest userspace: no output, no answer to the host. Only the watchdog ends it.
  while (hooks.hang) ::pause();

  for (uint32_t s = 0; s < hooks.hold_s; ++s) {
    if (channel.wait_for_stop(1000)) return;  // the host's soft deadline: power off now
    channel.emit("heartbeat", Json{{"uptime_s", uptime_seconds()}});
  }
}

}  // namespace

int main() {
  AgentChannel channel;
  try {
    run(channel);
  } catch (const std::exception& e) {
    channel.emit_error(std::string("agent failed: ") + e.what());
  } catch (...) {
    channel.emit_error("agent failed with an unknown exception");
  }
  power_off(channel);
}
