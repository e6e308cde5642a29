#include "kvm/guest_debug.hpp"

#include <stdexcept>

#include "kvm/hex.hpp"

namespace ktstr::kvm {

namespace {

/// DR7 LEN field for a length already validated: 1 -> 00, 2 -> 01, 4 -> 11, 8 -> 10.
uint64_t len_bits(uint32_t length) {
  switch (length) {
    case 1: return 0b00;
    case 2: return 0b01;
    case 4: return 0b11;
    default: return 0b10;  // 8
  }
}

}  // namespace

std::optional<std::string> watch_slot_error(const WatchSlot& s) {
  const std::string where = "watchpoint slot " + std::to_string(s.slot);
  if (s.slot >= kWatchSlots) return where + " does not exist (the debug registers have slots 0-3)";
  if (s.length != 1 && s.length != 2 && s.length != 4 && s.length != 8)
    return where + ": length " + std::to_string(s.length) + " is not 1, 2, 4 or 8 bytes";
  if (s.address % s.length != 0)
    return where + ": address 0x" + to_hex(s.address) + " is not aligned to its length of " +
           std::to_string(s.length) + " bytes";
  if (s.kind != WatchKind::write && s.kind != WatchKind::read_write)
    return where + ": kind " + std::to_string(static_cast<unsigned>(s.kind)) +
           " is neither write (1) nor read/write (3)";
  return std::nullopt;
}

uint8_t armed_slots_mask(const WatchSlots& slots) {
  uint8_t mask = 0;
  for (uint32_t n = 0; n < kWatchSlots; ++n)
    if (slots[n]) mask |= static_cast<uint8_t>(1u << n);
  return mask;
}

uint64_t encode_dr7(const WatchSlots& slots) {
  uint64_t dr7 = kDr7Fixed1;
  for (uint32_t n = 0; n < kWatchSlots; ++n) {
    if (!slots[n]) continue;
    dr7 |= 2ull << (2 * n);  // G: global enable, survives the guest's task switches
    dr7 |= uint64_t{static_cast<uint8_t>(slots[n]->kind)} << (16 + 4 * n);
    dr7 |= len_bits(slots[n]->length) << (18 + 4 * n);
  }
  return dr7;
}

kvm_guest_debug encode_guest_debug(const WatchSlots& slots) {
  kvm_guest_debug dbg{};
  for (uint32_t n = 0; n < kWatchSlots; ++n) {
    if (!slots[n]) continue;
    if (auto why = watch_slot_error(*slots[n])) throw std::invalid_argument(*why);
    if (slots[n]->slot != n)
      throw std::invalid_argument("watchpoint slot " + std::to_string(slots[n]->slot) + " stored at index " +
                                  std::to_string(n));
    dbg.arch.debugreg[n] = slots[n]->address;
  }
  if (armed_slots_mask(slots) == 0) return dbg;  // control 0: the guest's own debug registers again
  dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
  dbg.arch.debugreg[7] = encode_dr7(slots);
  return dbg;
}

DebugExitDecision classify_debug_exit(uint64_t dr6, uint8_t armed) {
  DebugExitDecision d;
  for (uint32_t n = 0; n < kWatchSlots; ++n)
    if ((dr6 & (1ull << n)) && (armed & (1u << n))) d.our_slots_hit.push_back(n);
  const bool guest_cause = (dr6 & kDr6HitMask & ~uint64_t{armed}) != 0 || (dr6 & (kDr6Bd | kDr6Bs | kDr6Bt)) != 0;
  d.reinject = d.our_slots_hit.empty() || guest_cause;
  return d;
}

uint64_t guest_dr6(uint64_t dr6, uint8_t armed) { return dr6 & ~(uint64_t{armed} & kDr6HitMask); }

std::optional<kvm_vcpu_events> with_debug_exception(const kvm_vcpu_events& events) {
  if (events.exception.injected || events.exception.pending) return std::nullopt;
  kvm_vcpu_events out = events;
  out.exception.injected = 1;
  out.exception.nr = kDebugVector;
  out.exception.has_error_code = 0;
  out.exception.error_code = 0;
  return out;
}

bool reinject_debug_exception(Vcpu& vcpu, uint64_t dr6) {
  auto events = with_debug_exception(vcpu.vcpu_events());
  if (!events) return false;
  kvm_debugregs regs = vcpu.debugregs();
  regs.dr6 = dr6 & 0xFFFFFFFFull;  // KVM refuses bits 63:32
  vcpu.set_debugregs(regs);
  vcpu.set_vcpu_events(*events);
  return true;
}

}  // namespace ktstr::kvm
