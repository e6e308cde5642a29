#pragma once
// What the guest asked of the machine through a device: reset (i8042 0xFE) or
// power-off (ACPI S5). Set from any vCPU thread, read by all of them.
#include <atomic>
#include <cstdint>

namespace ktstr::kvm {

enum class GuestRequest : uint8_t { none = 0, reset = 1, power_off = 2 };

class MachineEvents {
 public:
  void request(GuestRequest r) {
    auto expected = GuestRequest::none;  // the first request wins
    request_.compare_exchange_strong(expected, r, std::memory_order_acq_rel);
  }
  GuestRequest pending() const { return request_.load(std::memory_order_acquire); }

 private:
  std::atomic<GuestRequest> request_{GuestRequest::none};
};

}  // namespace ktstr::kvm
