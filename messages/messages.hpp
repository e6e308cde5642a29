#pragma once
// Every typed message of ktstr-actors, declared once, in one CAF type-ID block.
// Each message is a plain struct with a free `inspect`, so it can be serialized
// (later issues send them between hosts).
#include <caf/all.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ktstr::msg {

// -- atoms --------------------------------------------------------------------

using stop_atom = caf::atom_constant<caf::atom("stop")>;          ///< leave the run loop / end the VM
using tail_atom = caf::atom_constant<caf::atom("tail")>;          ///< ask the console for its last lines
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;  ///< the run deadline passed
using rekick_atom = caf::atom_constant<caf::atom("rekick")>;      ///< kick vCPUs that have not stopped yet
using sample_atom = caf::atom_constant<caf::atom("sample")>;      ///< perf sampler tick
using soft_atom = caf::atom_constant<caf::atom("soft")>;          ///< watchdog: soft stage reached
using hard_atom = caf::atom_constant<caf::atom("hard")>;          ///< watchdog: hard stage reached
using stall_atom = caf::atom_constant<caf::atom("stall")>;        ///< watchdog: no progress for too long
using ping_atom = caf::atom_constant<caf::atom("ping")>;          ///< (ping, seq) to a vcpu: answer from its drain loop
using pong_atom = caf::atom_constant<caf::atom("pong")>;          ///< (pong, seq, vcpu, handled_at): the answer; handled_at = steady-clock ticks when the vcpu thread handled the ping (runtime_bench)

// -- guest I/O ----------------------------------------------------------------

/// Bytes a UART sent (port 1 = COM1 kernel console, 2 = COM2 agent channel).
struct console_output {
  uint8_t port = 0;
  std::string bytes;
};

/// One complete line from the guest agent (untrusted; parsed by the receiver).
struct agent_line {
  std::string line;
  double at_s = 0;  ///< host seconds since the VM started
};

/// The console saw the kernel panic; lines leading up to and including it.
struct kernel_panic {
  std::vector<std::string> lines;
  double at_s = 0;
};

// -- vCPU lifecycle -----------------------------------------------------------

/// The guest ended the machine from this vCPU (power-off, reset, shutdown).
struct guest_stopped {
  uint32_t vcpu = 0;
  std::string how;
  std::string detail;
};

/// A vCPU's run loop failed (KVM error, bad exit); the VM must end.
struct vcpu_failed {
  uint32_t vcpu = 0;
  std::string error;
};

/// A vCPU left its loop and released its fd.
struct vcpu_exited {
  uint32_t vcpu = 0;
  std::string reason;
};

// -- freeze protocol (coordinator <-> vcpu) -------------------------------------

/// A vCPU's architectural state, captured on its own thread (KVM_GET_REGS/SREGS).
struct vcpu_registers {
  std::vector<uint64_t> gprs;  ///< rax rbx rcx rdx rsi rdi rsp rbp r8..r15
  uint64_t rip = 0, rflags = 0;
  uint64_t cr0 = 0, cr2 = 0, cr3 = 0, cr4 = 0, efer = 0;
  uint64_t fs_base = 0, gs_base = 0;
  uint16_t cs = 0;
};

/// Coordinator -> vcpu (followed by a native kick): complete pending I/O, capture
/// registers, reply parked, wait for thaw or stop.
struct freeze {
  uint64_t id = 0;
};

/// vcpu -> coordinator: frozen, with its registers.
struct parked {
  uint64_t freeze_id = 0;
  uint32_t vcpu = 0;
  vcpu_registers registers;
};

/// Coordinator -> vcpu: run again.
struct thaw {
  uint64_t freeze_id = 0;
};

/// Anyone -> coordinator: freeze every vCPU now and take a snapshot.
struct freeze_request {
  std::string trigger;  ///< "request", "periodic", "watchpoint", ...
};

/// The coordinator's result for one freeze.
struct snapshot {
  uint64_t id = 0;
  std::string trigger;
  double at_s = 0;           ///< host seconds since VM start when the freeze began
  double latency_s = 0;      ///< freeze request to the last parked (or the deadline)
  double frozen_s = 0;       ///< how long the guest stood still
  bool partial = false;      ///< some vCPU did not park before the deadline
  std::vector<uint32_t> missing;
  std::vector<parked> vcpus;
};

/// A vCPU thread is running: its TID, for per-thread perf counters.
struct vcpu_started {
  uint32_t vcpu = 0;
  int32_t tid = 0;
};

// -- watchpoints, perf ----------------------------------------------------------

struct arm_watchpoint {
  uint32_t slot = 0;
  uint64_t address = 0;
  uint32_t length = 0;  ///< 1, 2, 4 or 8 bytes
};

struct watchpoint_hit {
  uint32_t slot = 0;
  uint32_t vcpu = 0;
  uint64_t address = 0;
  uint64_t value = 0;
};

struct counter_value {
  std::string name;
  uint64_t value = 0;
};

/// One periodic sample of one vCPU thread's counters.
struct perf_sample {
  double at_s = 0;
  uint32_t vcpu = 0;
  std::vector<counter_value> counters;
};

// -- watchdog -----------------------------------------------------------------

/// Guest progress seen (agent heartbeat or any console output).
struct progress {
  double at_s = 0;
};

/// The guest stood still for this long (frozen): deadlines move by as much.
struct frozen_for {
  double seconds = 0;
};

// -- run result ---------------------------------------------------------------

/// The vm actor's final word to whoever asked for the run.
struct run_finished {
  std::string how;                        ///< power-off, reset, shutdown, panic, timeout, vcpu-failed, vmm-error, stopped
  std::string detail;
  double elapsed_s = 0;
  std::vector<std::string> console_tail;  ///< last kernel console lines
  std::vector<std::string> panic_lines;   ///< non-empty when the kernel panicked
  std::vector<uint32_t> stuck_vcpus;      ///< vCPUs that never left KVM_RUN
  std::string perf_json;                  ///< the perf sampler's timeline and unavailable counters
};

// -- inspect ------------------------------------------------------------------

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, console_output& x) {
  return f(caf::meta::type_name("console_output"), x.port, x.bytes);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_line& x) {
  return f(caf::meta::type_name("agent_line"), x.line, x.at_s);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, kernel_panic& x) {
  return f(caf::meta::type_name("kernel_panic"), x.lines, x.at_s);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, guest_stopped& x) {
  return f(caf::meta::type_name("guest_stopped"), x.vcpu, x.how, x.detail);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vcpu_failed& x) {
  return f(caf::meta::type_name("vcpu_failed"), x.vcpu, x.error);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vcpu_exited& x) {
  return f(caf::meta::type_name("vcpu_exited"), x.vcpu, x.reason);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, run_finished& x) {
  return f(caf::meta::type_name("run_finished"), x.how, x.detail, x.elapsed_s, x.console_tail, x.panic_lines,
           x.stuck_vcpus, x.perf_json);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vcpu_registers& x) {
  return f(caf::meta::type_name("vcpu_registers"), x.gprs, x.rip, x.rflags, x.cr0, x.cr2, x.cr3, x.cr4, x.efer,
           x.fs_base, x.gs_base, x.cs);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, freeze& x) {
  return f(caf::meta::type_name("freeze"), x.id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, parked& x) {
  return f(caf::meta::type_name("parked"), x.freeze_id, x.vcpu, x.registers);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, thaw& x) {
  return f(caf::meta::type_name("thaw"), x.freeze_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, freeze_request& x) {
  return f(caf::meta::type_name("freeze_request"), x.trigger);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot& x) {
  return f(caf::meta::type_name("snapshot"), x.id, x.trigger, x.at_s, x.latency_s, x.frozen_s, x.partial, x.missing,
           x.vcpus);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vcpu_started& x) {
  return f(caf::meta::type_name("vcpu_started"), x.vcpu, x.tid);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, arm_watchpoint& x) {
  return f(caf::meta::type_name("arm_watchpoint"), x.slot, x.address, x.length);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, watchpoint_hit& x) {
  return f(caf::meta::type_name("watchpoint_hit"), x.slot, x.vcpu, x.address, x.value);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, counter_value& x) {
  return f(caf::meta::type_name("counter_value"), x.name, x.value);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, perf_sample& x) {
  return f(caf::meta::type_name("perf_sample"), x.at_s, x.vcpu, x.counters);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, progress& x) {
  return f(caf::meta::type_name("progress"), x.at_s);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, frozen_for& x) {
  return f(caf::meta::type_name("frozen_for"), x.seconds);
}

}  // namespace ktstr::msg

CAF_BEGIN_TYPE_ID_BLOCK(ktstr, caf::first_custom_type_id)
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::console_output))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::agent_line))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::kernel_panic))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::guest_stopped))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::vcpu_failed))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::vcpu_exited))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::run_finished))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::vcpu_registers))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::freeze))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::parked))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::thaw))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::freeze_request))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::snapshot))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::vcpu_started))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::arm_watchpoint))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::watchpoint_hit))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::counter_value))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::perf_sample))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::progress))
CAF_ADD_TYPE_ID(ktstr, (ktstr::msg::frozen_for))
CAF_END_TYPE_ID_BLOCK(ktstr)
