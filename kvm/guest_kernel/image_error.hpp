#pragma once
// The one error of the guest-kernel image readers: the image (payload, ELF, kallsyms,
// BTF) is not what a kernel build makes. The message starts with the reason, so a caller
// can print "monitor unavailable: <what()>".
#include <stdexcept>
#include <string>

namespace ktstr::guest_kernel {

class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace ktstr::guest_kernel
