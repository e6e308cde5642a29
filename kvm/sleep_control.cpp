#include "kvm/sleep_control.hpp"

#include "kvm/layout.hpp"

namespace ktstr::kvm {

namespace {
constexpr uint8_t kSlpEn = 1 << 5;
constexpr uint8_t kSlpTypShift = 2;
constexpr uint8_t kSlpTypMask = 0x7;
}  // namespace

void SleepControl::write(uint16_t port, uint8_t value) {
  if (port != layout::kSleepControl || !(value & kSlpEn)) return;
  if (((value >> kSlpTypShift) & kSlpTypMask) == layout::kS5SleepType) events_.request(GuestRequest::power_off);
}

}  // namespace ktstr::kvm
