// kvm::GuestMemory as the readers' PhysicalMemory.
#include <utility>

#include "kvm/guest_kernel/guest_kernel.hpp"
#include "kvm/guest_memory.hpp"

namespace ktstr::guest_kernel {
namespace {

class GuestMemoryView final : public PhysicalMemory {
 public:
  GuestMemoryView(const kvm::GuestMemory& memory, std::shared_ptr<const void> keep_alive)
      : memory_(memory), keep_alive_(std::move(keep_alive)) {}
  bool read(uint64_t gpa, std::span<uint8_t> out) const override { return memory_.read(gpa, out); }

 private:
  const kvm::GuestMemory& memory_;
  std::shared_ptr<const void> keep_alive_;
};

}  // namespace

std::shared_ptr<const PhysicalMemory> physical_memory_of(const kvm::GuestMemory& memory,
                                                         std::shared_ptr<const void> keep_alive) {
  return std::make_shared<GuestMemoryView>(memory, std::move(keep_alive));
}

}  // namespace ktstr::guest_kernel
