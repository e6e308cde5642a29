#pragma once
// A vCPU's lifecycle as its supervisor sees it, and the ping the runtime benchmark
// sends through a vCPU's drain loop.
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "messages/freeze.hpp"
#include "messages/optional_field.hpp"

namespace ktstr::msg {

/// How the guest ended the machine from a vCPU.
enum class guest_stop : uint8_t {
  power_off,  ///< ACPI S5 or a shutdown system event
  reset,      ///< i8042 reset or a reset system event
  shutdown,   ///< triple fault
};

/// The text result.json and the logs use: "power-off", "reset", "shutdown".
inline const char* to_string(guest_stop how) {
  switch (how) {
    case guest_stop::power_off: return "power-off";
    case guest_stop::reset: return "reset";
    case guest_stop::shutdown: return "shutdown";
  }
  return "?";
}

/// The guest ended the machine from this vCPU (power-off, reset, shutdown).
struct guest_stopped {
  uint32_t vcpu = 0;
  guest_stop how = guest_stop::power_off;
  std::string detail;
  std::optional<vcpu_registers> state;  ///< shutdown: the vCPU's state right after its exit
};

/// A vCPU's run loop failed (KVM error, bad exit); the VM must end.
struct vcpu_failed {
  uint32_t vcpu = 0;
  std::string error;
  std::optional<vcpu_registers> state;  ///< the vCPU's state right after the failure, when readable
};

/// A vCPU left its loop and released its fd.
struct vcpu_exited {
  uint32_t vcpu = 0;
  std::string reason;
};

/// A vCPU thread is running: its TID, for per-thread perf counters.
struct vcpu_started {
  uint32_t vcpu = 0;
  int32_t tid = 0;
};

/// To a vcpu: answer from its drain loop (runtime_bench measures the actor path).
struct ping {
  uint64_t seq = 0;
};

/// The vcpu's answer to ping.
struct pong {
  uint64_t seq = 0;
  uint32_t vcpu = 0;
  int64_t handled_at = 0;  ///< steady-clock ticks when the vcpu thread handled the ping
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, guest_stopped& x) {
  return f(caf::meta::type_name("guest_stopped"), x.vcpu, x.how, x.detail, x.state);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vcpu_failed& x) {
  return f(caf::meta::type_name("vcpu_failed"), x.vcpu, x.error, x.state);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vcpu_exited& x) {
  return f(caf::meta::type_name("vcpu_exited"), x.vcpu, x.reason);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vcpu_started& x) {
  return f(caf::meta::type_name("vcpu_started"), x.vcpu, x.tid);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ping& x) {
  return f(caf::meta::type_name("ping"), x.seq);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pong& x) {
  return f(caf::meta::type_name("pong"), x.seq, x.vcpu, x.handled_at);
}

}  // namespace ktstr::msg
