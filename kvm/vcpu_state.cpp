#include "kvm/vcpu_state.hpp"

#include <cstring>

namespace ktstr::kvm {

const char* mp_state_name(uint32_t mp_state) {
  switch (mp_state) {
    case KVM_MP_STATE_RUNNABLE: return "runnable";
    case KVM_MP_STATE_UNINITIALIZED: return "uninitialized";
    case KVM_MP_STATE_INIT_RECEIVED: return "init-received";
    case KVM_MP_STATE_HALTED: return "halted";
    case KVM_MP_STATE_SIPI_RECEIVED: return "sipi-received";
    case KVM_MP_STATE_STOPPED: return "stopped";
    case KVM_MP_STATE_CHECK_STOP: return "check-stop";
    case KVM_MP_STATE_OPERATING: return "operating";
    case KVM_MP_STATE_LOAD: return "load";
#ifdef KVM_MP_STATE_AP_RESET_HOLD
    case KVM_MP_STATE_AP_RESET_HOLD: return "ap-reset-hold";
#endif
#ifdef KVM_MP_STATE_SUSPENDED
    case KVM_MP_STATE_SUSPENDED: return "suspended";
#endif
  }
  return "unknown";
}

uint32_t lapic_id(const kvm_lapic_state& lapic) {
  constexpr size_t kApicId = 0x20;
  uint32_t v;
  std::memcpy(&v, lapic.regs + kApicId, sizeof v);
  return v >> 24;
}

}  // namespace ktstr::kvm
