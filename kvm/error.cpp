#include "kvm/error.hpp"

#include <cerrno>
#include <cstring>

namespace ktstr::kvm {

void throw_errno(ErrorKind kind, const std::string& what) {
  int err = errno;
  throw Error(kind, what + ": " + std::strerror(err));
}

}  // namespace ktstr::kvm
