#pragma once
// C layouts of KVM's variable-length ioctl structures.
//
// The uapi headers declare their trailing arrays with __DECLARE_FLEX_ARRAY, which in
// C++ wraps an empty struct (size 1) around the array: sizeof(kvm_cpuid2) becomes 12
// instead of 8 and the entries move. The size is encoded in the ioctl number, so the
// kernel then rejects the call with EINVAL. We use the C layout explicitly.
#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace ktstr::kvm {

struct CpuidHeader {  // struct kvm_cpuid2 without its entries
  uint32_t nent;
  uint32_t padding;
};
struct MsrsHeader {  // struct kvm_msrs without its entries
  uint32_t nmsrs;
  uint32_t pad;
};
static_assert(sizeof(CpuidHeader) == 8 && sizeof(MsrsHeader) == 8);

constexpr unsigned long kIoctlGetSupportedCpuid = _IOWR(KVMIO, 0x05, CpuidHeader);
constexpr unsigned long kIoctlSetCpuid2 = _IOW(KVMIO, 0x90, CpuidHeader);
constexpr unsigned long kIoctlGetMsrs = _IOWR(KVMIO, 0x88, MsrsHeader);
constexpr unsigned long kIoctlSetMsrs = _IOW(KVMIO, 0x89, MsrsHeader);

/// A header followed by `count` entries, laid out as the kernel expects.
template <typename Header, typename Entry>
class FlexBuffer {
 public:
  explicit FlexBuffer(size_t count) : bytes_(sizeof(Header) + count * sizeof(Entry), 0) {}
  void* data() { return bytes_.data(); }
  Header header() const {
    Header h;
    std::memcpy(&h, bytes_.data(), sizeof h);
    return h;
  }
  void set_header(const Header& h) { std::memcpy(bytes_.data(), &h, sizeof h); }
  std::vector<Entry> entries(size_t count) const {
    std::vector<Entry> out(count);
    std::memcpy(out.data(), bytes_.data() + sizeof(Header), count * sizeof(Entry));
    return out;
  }
  void set_entries(const std::vector<Entry>& in) {
    std::memcpy(bytes_.data() + sizeof(Header), in.data(), in.size() * sizeof(Entry));
  }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace ktstr::kvm
