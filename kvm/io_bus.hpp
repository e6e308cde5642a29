#pragma once
// Port I/O dispatch to the legacy devices. Unclaimed ports read as a floating bus
// (all ones) and swallow writes, as on a PC without that device.
#include <cstdint>
#include <memory>

#include "kvm/cmos.hpp"
#include "kvm/i8042.hpp"
#include "kvm/machine_events.hpp"
#include "kvm/serial.hpp"
#include "kvm/sleep_control.hpp"

namespace ktstr::kvm {

class IoBus {
 public:
  IoBus(Uart16550& com1, Uart16550& com2, MachineEvents& events);

  /// One access of `size` bytes (1, 2 or 4); data is in guest byte order.
  void write(uint16_t port, const uint8_t* data, uint32_t size);
  void read(uint16_t port, uint8_t* data, uint32_t size);

 private:
  Uart16550& com1_;
  Uart16550& com2_;
  I8042 i8042_;
  SleepControl sleep_;
  Cmos cmos_;
};

}  // namespace ktstr::kvm
