#include "actors/kernel_word_write.hpp"

#include "kvm/hex.hpp"

namespace ktstr::actors {

msg::fault_outcome write_kernel_word(const guest_kernel::GuestKernel& kernel, const PhysicalStore& store,
                                     const msg::guest_write& w, double at_s) {
  msg::fault_outcome out;
  out.index = w.index;
  const uint64_t va = w.link_address + static_cast<uint64_t>(kernel.located().slide);
  const auto before = kernel.read_kernel_value(w.link_address, w.length);
  const auto gpa = kernel.kernel_word_physical(w.link_address, w.length);
  if (!before.ok || !gpa) {
    out.error = "0x" + kvm::to_hex(va) + " is not readable guest memory";
    return out;
  }
  if (!store || !store(*gpa, w.value, w.length)) {
    out.error = "the store to guest-physical 0x" + kvm::to_hex(*gpa) + " was refused";
    return out;
  }
  out.applied_at_s = at_s;
  out.accepted = true;
  out.old_value = before.value;
  const auto after = kernel.read_kernel_value(w.link_address, w.length);
  if (after.ok) out.new_value = after.value;
  else out.error = "stored, but it could not be read back";
  return out;
}

}  // namespace ktstr::actors
