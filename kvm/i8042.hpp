#pragma once
// Just enough of the i8042 keyboard controller for reboot=k: the kernel waits for an
// empty input buffer on port 0x64, then writes 0xFE (pulse reset line).
#include <cstdint>

#include "kvm/machine_events.hpp"

namespace ktstr::kvm {

class I8042 {
 public:
  explicit I8042(MachineEvents& events) : events_(events) {}
  void write(uint16_t port, uint8_t value);
  uint8_t read(uint16_t port) const;

 private:
  MachineEvents& events_;
};

}  // namespace ktstr::kvm
