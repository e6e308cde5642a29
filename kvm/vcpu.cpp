#include "kvm/vcpu.hpp"

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "kvm/error.hpp"
#include "kvm/hex.hpp"
#include "kvm/uapi.hpp"

namespace ktstr::kvm {

namespace {

constexpr uint32_t kApicLvt0 = 0x350;
constexpr uint32_t kApicLvt1 = 0x360;
constexpr uint32_t kDeliveryExtInt = 7 << 8;
constexpr uint32_t kDeliveryNmi = 4 << 8;

std::string vcpu_op(const char* op, uint32_t index) { return std::string(op) + " (vCPU " + std::to_string(index) + ")"; }

}  // namespace

Vcpu::Vcpu(const Kvm& kvm, const Vm& vm, uint32_t index, uint32_t apic_id) : index_(index), apic_id_(apic_id) {
  fd_.reset(::ioctl(vm.fd(), KVM_CREATE_VCPU, apic_id));
  if (!fd_) throw_errno(ErrorKind::kvm, vcpu_op("KVM_CREATE_VCPU", index));
  run_size_ = kvm.vcpu_mmap_size();
  void* p = ::mmap(nullptr, run_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd(), 0);
  if (p == MAP_FAILED) throw_errno(ErrorKind::kvm, vcpu_op("mmap kvm_run", index));
  // SAFETY: KVM maps a struct kvm_run at offset 0 of the vCPU fd, run_size_ >= sizeof(kvm_run).
  run_ = static_cast<kvm_run*>(p);
}

Vcpu::~Vcpu() {
  if (run_) ::munmap(run_, run_size_);
}

void Vcpu::set_cpuid(const std::vector<kvm_cpuid_entry2>& entries) {
  FlexBuffer<CpuidHeader, kvm_cpuid_entry2> buf(entries.size());
  buf.set_header({static_cast<uint32_t>(entries.size()), 0});
  buf.set_entries(entries);
  if (::ioctl(fd(), kIoctlSetCpuid2, buf.data()) < 0) throw_errno(ErrorKind::kvm, vcpu_op("KVM_SET_CPUID2", index_));
}

kvm_regs Vcpu::regs() const {
  kvm_regs r{};
  if (::ioctl(fd(), KVM_GET_REGS, &r) < 0) throw_errno(ErrorKind::kvm, vcpu_op("KVM_GET_REGS", index_));
  return r;
}

void Vcpu::set_regs(const kvm_regs& r) {
  if (::ioctl(fd(), KVM_SET_REGS, &r) < 0) throw_errno(ErrorKind::kvm, vcpu_op("KVM_SET_REGS", index_));
}

kvm_sregs Vcpu::sregs() const {
  kvm_sregs s{};
  if (::ioctl(fd(), KVM_GET_SREGS, &s) < 0) throw_errno(ErrorKind::kvm, vcpu_op("KVM_GET_SREGS", index_));
  return s;
}

void Vcpu::set_sregs(const kvm_sregs& s) {
  if (::ioctl(fd(), KVM_SET_SREGS, &s) < 0) throw_errno(ErrorKind::kvm, vcpu_op("KVM_SET_SREGS", index_));
}

void Vcpu::set_fpu(const kvm_fpu& f) {
  if (::ioctl(fd(), KVM_SET_FPU, &f) < 0) throw_errno(ErrorKind::kvm, vcpu_op("KVM_SET_FPU", index_));
}

void Vcpu::set_msrs(const std::vector<kvm_msr_entry>& msrs) {
  FlexBuffer<MsrsHeader, kvm_msr_entry> buf(msrs.size());
  buf.set_header({static_cast<uint32_t>(msrs.size()), 0});
  buf.set_entries(msrs);
  int set = ::ioctl(fd(), kIoctlSetMsrs, buf.data());
  if (set < 0) throw_errno(ErrorKind::kvm, vcpu_op("KVM_SET_MSRS", index_));
  if (static_cast<size_t>(set) != msrs.size())
    throw Error(ErrorKind::kvm, vcpu_op("KVM_SET_MSRS", index_) + ": MSR " + std::to_string(msrs[set].index) +
                                    " refused");
}

std::vector<uint64_t> Vcpu::msrs(const std::vector<uint32_t>& indices) const {
  std::vector<kvm_msr_entry> entries(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) entries[i].index = indices[i];
  FlexBuffer<MsrsHeader, kvm_msr_entry> buf(entries.size());
  buf.set_header({static_cast<uint32_t>(entries.size()), 0});
  buf.set_entries(entries);
  int got = ::ioctl(fd(), kIoctlGetMsrs, buf.data());
  if (got < 0) throw_errno(ErrorKind::kvm, vcpu_op("KVM_GET_MSRS", index_));
  if (static_cast<size_t>(got) != entries.size())
    throw Error(ErrorKind::kvm, vcpu_op("KVM_GET_MSRS", index_) + ": MSR 0x" + to_hex(indices[got]) + " refused");
  std::vector<uint64_t> values;
  for (const auto& e : buf.entries(entries.size())) values.push_back(e.data);
  return values;
}

void Vcpu::set_guest_debug(const kvm_guest_debug& debug) {
  if (::ioctl(fd(), KVM_SET_GUEST_DEBUG, &debug) < 0) throw_errno(ErrorKind::kvm, vcpu_op("KVM_SET_GUEST_DEBUG", index_));
}

kvm_vcpu_events Vcpu::vcpu_events() const {
  kvm_vcpu_events e{};
  if (::ioctl(fd(), KVM_GET_VCPU_EVENTS, &e) < 0) throw_errno(ErrorKind::kvm, vcpu_op("KVM_GET_VCPU_EVENTS", index_));
  return e;
}

void Vcpu::set_vcpu_events(const kvm_vcpu_events& e) {
  if (::ioctl(fd(), KVM_SET_VCPU_EVENTS, &e) < 0) throw_errno(ErrorKind::kvm, vcpu_op("KVM_SET_VCPU_EVENTS", index_));
}

kvm_debugregs Vcpu::debugregs() const {
  kvm_debugregs d{};
  if (::ioctl(fd(), KVM_GET_DEBUGREGS, &d) < 0) throw_errno(ErrorKind::kvm, vcpu_op("KVM_GET_DEBUGREGS", index_));
  return d;
}

void Vcpu::set_debugregs(const kvm_debugregs& d) {
  if (::ioctl(fd(), KVM_SET_DEBUGREGS, &d) < 0) throw_errno(ErrorKind::kvm, vcpu_op("KVM_SET_DEBUGREGS", index_));
}

kvm_mp_state Vcpu::mp_state() const {
  kvm_mp_state m{};
  if (::ioctl(fd(), KVM_GET_MP_STATE, &m) < 0) throw_errno(ErrorKind::kvm, vcpu_op("KVM_GET_MP_STATE", index_));
  return m;
}

kvm_lapic_state Vcpu::lapic() const {
  kvm_lapic_state l{};
  if (::ioctl(fd(), KVM_GET_LAPIC, &l) < 0) throw_errno(ErrorKind::kvm, vcpu_op("KVM_GET_LAPIC", index_));
  return l;
}

void Vcpu::setup_lapic_lints() {
  kvm_lapic_state lapic = this->lapic();
  auto patch = [&](uint32_t reg, uint32_t mode) {
    uint32_t v;
    std::memcpy(&v, lapic.regs + reg, 4);
    v = (v & ~0x700u) | mode;
    std::memcpy(lapic.regs + reg, &v, 4);
  };
  patch(kApicLvt0, kDeliveryExtInt);
  patch(kApicLvt1, kDeliveryNmi);
  if (::ioctl(fd(), KVM_SET_LAPIC, &lapic) < 0) throw_errno(ErrorKind::kvm, vcpu_op("KVM_SET_LAPIC", index_));
}

int Vcpu::run() {
  if (::ioctl(fd(), KVM_RUN, 0) < 0) return -errno;
  return 0;
}

void Vcpu::complete_pending_io() {
  // SAFETY: run_ is this vCPU's mapped kvm_run, used on its owning thread.
  // KVM sets KVM_EXIT_INTR when a signal took the vCPU out of the guest. With
  // immediate_exit set before entry the old reason stays, so a kick that found the
  // thread serving I/O still gets its completion run.
  if (run_->exit_reason == KVM_EXIT_INTR) return;
  reinterpret_cast<volatile uint8_t*>(&run_->immediate_exit)[0] = 1;
  int err = run();
  reinterpret_cast<volatile uint8_t*>(&run_->immediate_exit)[0] = 0;
  if (err != 0 && err != -EINTR && err != -EAGAIN)
    throw Error(ErrorKind::kvm, vcpu_op("KVM_RUN (completing I/O)", index_) + ": " + std::strerror(-err));
}

bool Vcpu::mark_guest_paused() {
  if (::ioctl(fd(), KVM_KVMCLOCK_CTRL, 0) == 0) return true;
  if (errno == EINVAL) return false;
  throw_errno(ErrorKind::kvm, vcpu_op("KVM_KVMCLOCK_CTRL", index_));
}

std::string Vcpu::inject_nmi() {
  if (::ioctl(fd(), KVM_NMI) == 0) return {};
  return vcpu_op("KVM_NMI", index_) + ": " + std::strerror(errno);
}

}  // namespace ktstr::kvm
