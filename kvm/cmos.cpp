#include "kvm/cmos.hpp"

#include <ctime>

namespace ktstr::kvm {

namespace {
constexpr uint16_t kIndexPort = 0x70;
constexpr uint8_t kRegA = 0x0A, kRegB = 0x0B, kRegD = 0x0D;
constexpr uint8_t kRegB24Hour = 0x02;  // BCD, 24-hour
constexpr uint8_t kRegDValid = 0x80;   // RTC power good
constexpr uint8_t kRegA32kHz = 0x26;   // divider on, UIP clear

uint8_t bcd(int v) { return static_cast<uint8_t>(((v / 10) << 4) | (v % 10)); }
}  // namespace

void Cmos::write(uint16_t port, uint8_t value) {
  std::lock_guard lock(mu_);
  if (port == kIndexPort) index_ = value & 0x7F;  // bit 7 is the NMI mask
}

uint8_t Cmos::read(uint16_t port) {
  std::lock_guard lock(mu_);
  if (port == kIndexPort) return index_;
  std::time_t now = std::time(nullptr);
  std::tm t{};
  ::gmtime_r(&now, &t);
  switch (index_) {
    case 0x00: return bcd(t.tm_sec);
    case 0x02: return bcd(t.tm_min);
    case 0x04: return bcd(t.tm_hour);
    case 0x06: return bcd(t.tm_wday + 1);
    case 0x07: return bcd(t.tm_mday);
    case 0x08: return bcd(t.tm_mon + 1);
    case 0x09: return bcd(t.tm_year % 100);
    case 0x32: return bcd(19 + t.tm_year / 100);  // century
    case kRegA: return kRegA32kHz;
    case kRegB: return kRegB24Hour;
    case kRegD: return kRegDValid;
    default: return 0;
  }
}

}  // namespace ktstr::kvm
