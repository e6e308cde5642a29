#pragma once
// A read-only MC146818 CMOS RTC showing the host's UTC time, so the guest's clock
// starts right and the kernel's RTC read does not spin on an "update in progress"
// bit that a floating bus (0xFF) would report.
#include <cstdint>
#include <mutex>

namespace ktstr::kvm {

class Cmos {
 public:
  void write(uint16_t port, uint8_t value);
  uint8_t read(uint16_t port);

 private:
  std::mutex mu_;
  uint8_t index_ = 0;
};

}  // namespace ktstr::kvm
