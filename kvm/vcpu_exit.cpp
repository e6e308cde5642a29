#include "kvm/vcpu_exit.hpp"

#include <algorithm>
#include <cerrno>
#include <iterator>
#include <cstring>
#include <string>

#include "kvm/hex.hpp"
#include "kvm/kick.hpp"

namespace ktstr::kvm {

namespace {

RunResult handle_io(kvm_run* run, size_t run_size, IoBus& bus) {
  const auto& io = run->io;
  const uint64_t bytes = uint64_t{io.size} * io.count;
  if ((io.size != 1 && io.size != 2 && io.size != 4) || io.data_offset > run_size || bytes > run_size - io.data_offset)
    return {RunOutcome::failed, "malformed port I/O exit (size " + std::to_string(io.size) + ", count " +
                                    std::to_string(io.count) + ")"};
  // SAFETY: data_offset and size*count were checked to lie inside the mapped run page.
  uint8_t* data = reinterpret_cast<uint8_t*>(run) + io.data_offset;
  for (uint32_t i = 0; i < io.count; ++i, data += io.size) {
    if (io.direction == KVM_EXIT_IO_OUT) bus.write(io.port, data, io.size);
    else bus.read(io.port, data, io.size);
  }
  return {RunOutcome::resume, {}};
}

RunResult after_device(const MachineEvents& events) {
  switch (events.pending()) {
    case GuestRequest::reset: return {RunOutcome::guest_reset, "i8042 reset"};
    case GuestRequest::power_off: return {RunOutcome::guest_power_off, "ACPI S5 power-off"};
    case GuestRequest::none: break;
  }
  return {RunOutcome::resume, {}};
}

/// The suberror, named when KVM defines it, and the data words KVM gave with it (for an
/// emulation failure: the instruction bytes and the exit that led to it).
std::string internal_error_text(const decltype(kvm_run::internal)& internal) {
  std::string out = "KVM internal error, suberror " + std::to_string(internal.suberror);
  switch (internal.suberror) {
    case KVM_INTERNAL_ERROR_EMULATION: out += " (emulation failure)"; break;
    case KVM_INTERNAL_ERROR_SIMUL_EX: out += " (exception while delivering an exception)"; break;
    case KVM_INTERNAL_ERROR_DELIVERY_EV: out += " (event delivery)"; break;
    default: break;
  }
  const uint32_t words = std::min<uint32_t>(internal.ndata, std::size(internal.data));
  for (uint32_t i = 0; i < words; ++i) out += (i ? " 0x" : ", data 0x") + to_hex(internal.data[i]);
  return out;
}

RunResult interrupted(VcpuKick& kick) {
  // A stale signal (its kick already served) or a foreign one asks for nothing new.
  return {kick.consume() ? RunOutcome::interrupted : RunOutcome::resume, {}};
}

}  // namespace

const char* to_string(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::resume: return "resume";
    case RunOutcome::interrupted: return "interrupted";
    case RunOutcome::guest_reset: return "reset";
    case RunOutcome::guest_power_off: return "power-off";
    case RunOutcome::guest_shutdown: return "shutdown";
    case RunOutcome::debug: return "debug";
    case RunOutcome::failed: return "failed";
  }
  return "?";
}

RunResult run_once(Vcpu& vcpu, VcpuKick& kick, IoBus& bus, const MachineEvents& events) {
  kick.enter_guest();
  const int err = vcpu.run();
  kick.leave_guest();
  return dispatch_exit(err, *vcpu.run_page(), vcpu.run_page_size(), kick, bus, events);
}

RunResult dispatch_exit(int err, kvm_run& run_page, size_t run_size, VcpuKick& kick, IoBus& bus,
                        const MachineEvents& events) {
  if (err != 0) {
    if (err == -EINTR || err == -EAGAIN) return interrupted(kick);
    return {RunOutcome::failed, std::string("KVM_RUN: ") + std::strerror(-err)};
  }
  kvm_run* run = &run_page;
  switch (run->exit_reason) {
    case KVM_EXIT_IO: {
      auto r = handle_io(run, run_size, bus);
      return r.outcome == RunOutcome::resume ? after_device(events) : r;
    }
    case KVM_EXIT_MMIO:
      // No MMIO devices: reads see zeros, writes vanish.
      if (!run->mmio.is_write) std::memset(run->mmio.data, 0, sizeof run->mmio.data);
      return {RunOutcome::resume, {}};
    case KVM_EXIT_INTR: return interrupted(kick);
    case KVM_EXIT_HLT: return {RunOutcome::resume, {}};
    case KVM_EXIT_DEBUG: {
      // Classifying it needs the armed slots, which the caller holds (kvm/guest_debug.hpp).
      RunResult r{RunOutcome::debug, "debug exit, vector " + std::to_string(run->debug.arch.exception)};
      r.debug = run->debug.arch;
      return r;
    }
    case KVM_EXIT_SHUTDOWN: return {RunOutcome::guest_shutdown, "triple fault"};
    case KVM_EXIT_SYSTEM_EVENT:
      if (run->system_event.type == KVM_SYSTEM_EVENT_RESET) return {RunOutcome::guest_reset, "system event reset"};
      if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
        return {RunOutcome::guest_power_off, "system event shutdown"};
      return {RunOutcome::failed, "system event " + std::to_string(run->system_event.type)};
    case KVM_EXIT_FAIL_ENTRY:
      return {RunOutcome::failed,
              "VM entry failed (hardware reason 0x" + to_hex(run->fail_entry.hardware_entry_failure_reason) + ")"};
    case KVM_EXIT_INTERNAL_ERROR: return {RunOutcome::failed, internal_error_text(run->internal)};
    default: return {RunOutcome::failed, "unexpected exit reason " + std::to_string(run->exit_reason)};
  }
}

}  // namespace ktstr::kvm
