#pragma once
// Faults injected from the host (run --fault, an experiment's `faults`), each recorded
// with its exact times so that what the run saw can be held against it.
//   vcpu_stall: one vCPU parked (the freeze path, for that vCPU alone) while the others run.
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace ktstr::msg {

struct fault_event {
  std::string kind;           ///< "vcpu_stall"
  uint32_t vcpu = 0;
  double at_s = 0;            ///< planned, seconds from VM start
  double seconds = 0;         ///< how long
  std::string spec;           ///< as written: "vcpu_stall:1@4+3"
  double applied_at_s = -1;   ///< when the vCPU was told to park (-1: never, the VM ended first)
  double ended_at_s = -1;     ///< when it was let go (-1: still stalled when the VM ended)
};

/// vm actor tick: fault `index` begins (end = false) or ends.
struct fault_step {
  uint64_t index = 0;
  bool end = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fault_event& x) {
  return f(caf::meta::type_name("fault_event"), x.kind, x.vcpu, x.at_s, x.seconds, x.spec, x.applied_at_s, x.ended_at_s);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fault_step& x) {
  return f(caf::meta::type_name("fault_step"), x.index, x.end);
}

}  // namespace ktstr::msg
