// The emulated devices a guest drives by port I/O: the 16550 UART, the i8042 and the CMOS
// RTC, fed any sequence of reads and writes (3 bytes each: which device and offset, read
// or write, value). Nothing a guest writes may crash the VMM or grow its memory unbounded.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kvm/cmos.hpp"
#include "kvm/i8042.hpp"
#include "kvm/machine_events.hpp"
#include "kvm/serial.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t out_bytes = 0;
  ktstr::kvm::Uart16550 uart([](bool) {}, [&](std::string_view bytes) { out_bytes += bytes.size(); });
  ktstr::kvm::MachineEvents events;
  ktstr::kvm::I8042 i8042(events);
  ktstr::kvm::Cmos cmos;
  for (size_t i = 0; i + 3 <= size; i += 3) {
    const uint8_t which = data[i], value = data[i + 2];
    const bool write = data[i + 1] & 1;
    switch (which % 4) {
      case 0:
      case 1:
        if (write) uart.write(which / 4 % 8, value);
        else (void)uart.read(which / 4 % 8);
        if (data[i + 1] & 2) (void)uart.enqueue_input(std::string_view(reinterpret_cast<const char*>(data + i), 3));
        break;
      case 2:
        if (write) i8042.write(which & 0x80 ? 0x64 : 0x60, value);
        else (void)i8042.read(which & 0x80 ? 0x64 : 0x60);
        break;
      case 3:
        if (write) cmos.write(which & 0x80 ? 0x71 : 0x70, value);
        else (void)cmos.read(which & 0x80 ? 0x71 : 0x70);
        break;
    }
  }
  uart.flush();
  return 0;
}
