#include "kvm/io_bus.hpp"

#include <cstring>

#include "kvm/layout.hpp"

namespace ktstr::kvm {

namespace {
bool in_range(uint16_t port, uint16_t base, uint16_t len) { return port >= base && port < base + len; }
}  // namespace

IoBus::IoBus(Uart16550& com1, Uart16550& com2, MachineEvents& events)
    : com1_(com1), com2_(com2), i8042_(events), sleep_(events) {}

void IoBus::write(uint16_t port, const uint8_t* data, uint32_t size) {
  // Every device here is byte-wide; wider accesses hit the first register only.
  const uint8_t v = data[0];
  (void)size;
  if (in_range(port, layout::kCom1, 8)) return com1_.write(port - layout::kCom1, v);
  if (in_range(port, layout::kCom2, 8)) return com2_.write(port - layout::kCom2, v);
  if (port == layout::kI8042Data || port == layout::kI8042Command) return i8042_.write(port, v);
  if (port == layout::kSleepControl || port == layout::kSleepStatus) return sleep_.write(port, v);
  if (port == 0x70 || port == 0x71) return cmos_.write(port, v);
}

void IoBus::read(uint16_t port, uint8_t* data, uint32_t size) {
  std::memset(data, 0xFF, size);
  if (in_range(port, layout::kCom1, 8)) data[0] = com1_.read(port - layout::kCom1);
  else if (in_range(port, layout::kCom2, 8)) data[0] = com2_.read(port - layout::kCom2);
  else if (port == layout::kI8042Data || port == layout::kI8042Command) data[0] = i8042_.read(port);
  else if (port == layout::kSleepControl || port == layout::kSleepStatus) data[0] = sleep_.read(port);
  else if (port == 0x70 || port == 0x71) data[0] = cmos_.read(port);
}

}  // namespace ktstr::kvm
