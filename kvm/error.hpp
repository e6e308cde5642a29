#pragma once
// Errors of the native layer. Each kind is a class of failure the user can act on;
// the CLI maps kinds to documented exit codes (apps/cli/base/exit_codes.hpp).
#include <stdexcept>
#include <string>

namespace ktstr::kvm {

enum class ErrorKind {
  kernel_image,     ///< kernel file missing, unreadable or not a bzImage
  boot_protocol,    ///< bzImage whose boot protocol we cannot use
  topology,         ///< zero or inconsistent topology
  too_many_vcpus,   ///< more vCPUs than the VMM supports
  memory,           ///< guest memory too small (or too large) for the request
  no_kvm,           ///< /dev/kvm missing or unusable
  kvm,              ///< a KVM ioctl failed
  system,           ///< any other host failure (mmap, files, threads)
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

/// Throws Error{kvm} naming the ioctl and errno.
[[noreturn]] void throw_errno(ErrorKind kind, const std::string& what);

}  // namespace ktstr::kvm
