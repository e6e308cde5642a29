#include "power.hpp"

#include <sys/reboot.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sysfs_text.hpp"

namespace ktstr::agent {

namespace {

// Without a registered power-off handler the kernel turns RB_POWER_OFF into a halt
// that never returns (CPUs stopped, the VMM sees no exit). On x86 the handler comes
// from ACPI S5, so without ACPI tables go straight to a reset: the VMM boots with
// reboot=k, which makes it an i8042 reset that the VMM sees as the VM's exit.
bool kernel_can_power_off() { return path_exists("/sys/firmware/acpi/tables/FACP"); }

}  // namespace

void power_off(AgentChannel& channel) {
  channel.emit(protocol::PowerOff{});
  // Only init may power the machine off: the agent run by hand on a host (test mode)
  // must never reboot it.
  if (::getpid() != 1) {
    channel.emit_error("not PID 1: not powering off");
    ::_exit(0);
  }
  ::sync();
  if (kernel_can_power_off()) {
    ::reboot(RB_POWER_OFF);
    channel.emit_error(std::string("reboot(RB_POWER_OFF) returned: ") + std::strerror(errno));
  }
  ::reboot(RB_AUTOBOOT);
  channel.emit_error(std::string("reboot(RB_AUTOBOOT) returned: ") + std::strerror(errno));
  for (;;) ::pause();
}

}  // namespace ktstr::agent
