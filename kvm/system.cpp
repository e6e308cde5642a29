#include "kvm/system.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "kvm/error.hpp"
#include "kvm/uapi.hpp"

namespace ktstr::kvm {

namespace {

// What the VMM cannot work without, with the name a user can look up.
struct RequiredCap {
  long cap;
  const char* name;
};
constexpr RequiredCap kRequired[] = {
    {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
    {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
    {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
    {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
    {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
    {KVM_CAP_TSC_DEADLINE_TIMER, "KVM_CAP_TSC_DEADLINE_TIMER"},  // the guest's only timer (see cpuid.cpp)
};

}  // namespace

std::vector<std::string> missing_required_capabilities(int kvm_fd) {
  std::vector<std::string> missing;
  for (const auto& req : kRequired)
    if (::ioctl(kvm_fd, KVM_CHECK_EXTENSION, req.cap) <= 0) missing.emplace_back(req.name);
  return missing;
}

std::vector<kvm_cpuid_entry2> supported_cpuid(int kvm_fd) {
  // The kernel says E2BIG until the buffer is large enough.
  for (uint32_t n = 128; n <= 4096; n *= 2) {
    FlexBuffer<CpuidHeader, kvm_cpuid_entry2> buf(n);
    buf.set_header({n, 0});
    if (::ioctl(kvm_fd, kIoctlGetSupportedCpuid, buf.data()) == 0) return buf.entries(buf.header().nent);
    if (errno != E2BIG) throw_errno(ErrorKind::kvm, "KVM_GET_SUPPORTED_CPUID");
  }
  throw Error(ErrorKind::kvm, "KVM_GET_SUPPORTED_CPUID: table larger than 4096 entries");
}

Kvm::Kvm(const char* path) {
  fd_.reset(::open(path, O_RDWR | O_CLOEXEC));
  if (!fd_) throw_errno(ErrorKind::no_kvm, std::string("cannot open ") + path);
  int version = ::ioctl(fd(), KVM_GET_API_VERSION, 0);
  if (version != kApiVersion)
    throw Error(ErrorKind::no_kvm, std::string(path) + " has KVM API version " + std::to_string(version) +
                                       ", need " + std::to_string(kApiVersion));
  if (auto missing = missing_required_capabilities(fd()); !missing.empty())
    throw Error(ErrorKind::no_kvm, std::string(path) + " lacks " + missing.front());

  int size = ::ioctl(fd(), KVM_GET_VCPU_MMAP_SIZE, 0);
  if (size < static_cast<int>(sizeof(kvm_run))) throw_errno(ErrorKind::kvm, "KVM_GET_VCPU_MMAP_SIZE");
  vcpu_mmap_size_ = static_cast<size_t>(size);
  supported_cpuid_ = ktstr::kvm::supported_cpuid(fd());
}

int Kvm::check_extension(long capability) const { return ::ioctl(fd(), KVM_CHECK_EXTENSION, capability); }

}  // namespace ktstr::kvm
