#pragma once
// Hardware watchpoints on guest memory (debug registers of every vCPU).
#include <caf/meta/type_name.hpp>

#include <cstdint>

namespace ktstr::msg {

struct arm_watchpoint {
  uint32_t slot = 0;
  uint64_t address = 0;
  uint32_t length = 0;  ///< 1, 2, 4 or 8 bytes
};

struct watchpoint_hit {
  uint32_t slot = 0;
  uint32_t vcpu = 0;
  uint64_t address = 0;
  uint64_t value = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, arm_watchpoint& x) {
  return f(caf::meta::type_name("arm_watchpoint"), x.slot, x.address, x.length);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, watchpoint_hit& x) {
  return f(caf::meta::type_name("watchpoint_hit"), x.slot, x.vcpu, x.address, x.value);
}

}  // namespace ktstr::msg
