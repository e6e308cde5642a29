#include "kvm/guest_kernel/scx_names.hpp"

namespace ktstr::guest_kernel {

std::string exit_kind_name(uint64_t v) {
  switch (v) {
    case 0: return "NONE";
    case 1: return "DONE";
    case 64: return "UNREG";
    case 65: return "UNREG_BPF";
    case 66: return "UNREG_KERN";
    case 67: return "SYSRQ";
    case 1024: return "ERROR";
    case 1025: return "ERROR_BPF";
    case 1026: return "ERROR_STALL";
  }
  return std::to_string(v);
}

std::string enable_state_name(uint64_t v) {
  static const char* names[] = {"ENABLING", "ENABLED", "DISABLING", "DISABLED"};
  return v < 4 ? names[v] : std::to_string(v);
}

}  // namespace ktstr::guest_kernel
