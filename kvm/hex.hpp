#pragma once
// Numbers from KVM and the hardware (exit reasons, port values) as the SDM and the kernel
// print them: lower-case hex digits, no prefix.
#include <cstdint>
#include <cstdio>
#include <string>

namespace ktstr::kvm {

inline std::string to_hex(uint64_t value) {
  char digits[20];
  std::snprintf(digits, sizeof digits, "%llx", static_cast<unsigned long long>(value));
  return digits;
}

}  // namespace ktstr::kvm
