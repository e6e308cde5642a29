#include "kvm/i8042.hpp"

#include "kvm/layout.hpp"

namespace ktstr::kvm {

namespace {
constexpr uint8_t kCommandPulseReset = 0xFE;
}

void I8042::write(uint16_t port, uint8_t value) {
  if (port == layout::kI8042Command && value == kCommandPulseReset) events_.request(GuestRequest::reset);
}

uint8_t I8042::read(uint16_t) const {
  return 0;  // status: output and input buffers empty, so kb_wait() returns at once
}

}  // namespace ktstr::kvm
