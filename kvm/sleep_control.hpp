#pragma once
// The ACPI hardware-reduced sleep control/status registers (FADT SLEEP_CONTROL_REG):
// Linux powers off by writing SLP_TYP(\_S5) << 2 | SLP_EN to the control register.
#include <cstdint>

#include "kvm/machine_events.hpp"

namespace ktstr::kvm {

class SleepControl {
 public:
  explicit SleepControl(MachineEvents& events) : events_(events) {}
  void write(uint16_t port, uint8_t value);
  uint8_t read(uint16_t) const { return 0; }

 private:
  MachineEvents& events_;
};

}  // namespace ktstr::kvm
