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

// -- run result ---------------------------------------------------------------

/// The vm actor's final word to whoever asked for the run.
struct run_finished {
  std::string how;                        ///< power-off, reset, shutdown, panic, timeout, vcpu-failed, vmm-error, stopped
  std::string detail;
  double elapsed_s = 0;
  std::vector<std::string> console_tail;  ///< last kernel console lines
  std::vector<std::string> panic_lines;   ///< non-empty when the kernel panicked
  std::vector<uint32_t> stuck_vcpus;      ///< vCPUs that never left KVM_RUN
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
           x.stuck_vcpus);
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
CAF_END_TYPE_ID_BLOCK(ktstr)
