#pragma once
// Hardware watchpoints on guest memory (debug registers of every vCPU).
//
// Whoever watches sends arm_watchpoint / disarm_watchpoint to every vcpu actor (then a
// native kick): debug registers are per CPU. Each vcpu sets its debug registers on its own
// thread and answers the sender with guest_debug_result. A vCPU that then trips an armed
// slot sends watchpoint_hit to its watch listener (VcpuConfig::watch_listener) and runs on.
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace ktstr::msg {

/// DR7's R/W encoding (kvm::WatchKind has the same values).
enum class watch_kind : uint8_t {
  write = 1,       ///< data writes
  read_write = 3,  ///< data reads or writes
};

inline const char* to_string(watch_kind kind) {
  switch (kind) {
    case watch_kind::write: return "write";
    case watch_kind::read_write: return "read-write";
  }
  return "?";
}

/// Arm debug-register slot `slot` (0-3) on the receiving vCPU; replaces what it held.
struct arm_watchpoint {
  uint32_t slot = 0;
  uint64_t address = 0;  ///< guest virtual (linear) address, aligned to length
  uint32_t length = 4;   ///< 1, 2, 4 or 8 bytes
  watch_kind kind = watch_kind::write;
};

/// Switch slot `slot` off on the receiving vCPU (with every slot off, guest debugging is
/// off and the guest's own debug registers work again).
struct disarm_watchpoint {
  uint32_t slot = 0;
};

/// A vCPU's answer to arm_watchpoint / disarm_watchpoint: did KVM take it? (Some hosts
/// refuse guest debugging; a bad slot, length or alignment is refused before KVM.)
struct guest_debug_result {
  uint32_t vcpu = 0;
  uint32_t slot = 0;
  bool ok = false;
  std::string error;  ///< when !ok; the vCPU keeps its previous slots then
};

/// An armed slot fired. Data watchpoints are traps: memory already holds the new value
/// and rip is the instruction after the access.
struct watchpoint_hit {
  uint32_t slot = 0;
  uint32_t vcpu = 0;
  uint64_t address = 0;  ///< the watched address of the slot
  uint64_t rip = 0;      ///< KVM's pc: CS.base + RIP after the access
  uint64_t dr6 = 0;      ///< as KVM reported it (B0-B3 tell the slots; several may fire at once)
  double at_s = 0;       ///< host seconds since the VM started
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, arm_watchpoint& x) {
  return f(caf::meta::type_name("arm_watchpoint"), x.slot, x.address, x.length, x.kind);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, disarm_watchpoint& x) {
  return f(caf::meta::type_name("disarm_watchpoint"), x.slot);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, guest_debug_result& x) {
  return f(caf::meta::type_name("guest_debug_result"), x.vcpu, x.slot, x.ok, x.error);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, watchpoint_hit& x) {
  return f(caf::meta::type_name("watchpoint_hit"), x.slot, x.vcpu, x.address, x.rip, x.dr6, x.at_s);
}

}  // namespace ktstr::msg
