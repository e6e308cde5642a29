#pragma once
// /dev/kvm: the system-level KVM handle (API version, capabilities, supported CPUID).
#include <linux/kvm.h>

#include <optional>
#include <string>
#include <vector>

#include "kvm/fd.hpp"

namespace ktstr::kvm {

/// The capabilities the VMM cannot work without that the KVM device behind `kvm_fd`
/// lacks, by name (KVM_CAP_IRQCHIP, ...); empty when it has them all.
std::vector<std::string> missing_required_capabilities(int kvm_fd);

/// KVM_GET_SUPPORTED_CPUID of the KVM device behind `kvm_fd`; throws Error{kvm}.
std::vector<kvm_cpuid_entry2> supported_cpuid(int kvm_fd);

class Kvm {
 public:
  static constexpr int kApiVersion = 12;

  /// Opens and checks /dev/kvm; throws Error{no_kvm} naming what is missing.
  explicit Kvm(const char* path = "/dev/kvm");

  int fd() const { return fd_.get(); }
  int check_extension(long capability) const;
  size_t vcpu_mmap_size() const { return vcpu_mmap_size_; }
  const std::vector<kvm_cpuid_entry2>& supported_cpuid() const { return supported_cpuid_; }

 private:
  Fd fd_;
  size_t vcpu_mmap_size_ = 0;
  std::vector<kvm_cpuid_entry2> supported_cpuid_;
};

}  // namespace ktstr::kvm
