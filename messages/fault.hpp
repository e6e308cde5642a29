#pragma once
// Faults injected from the host (run --fault, an experiment's `faults`), each recorded
// with its exact times so that what the run saw can be held against it.
//   vcpu_stall:  one vCPU parked (the freeze path, for that vCPU alone) while the others run.
//   vcpu_jitter: the same vCPU parked for pause_ms every period_ms over a window.
//   kick_loss:   the vcpu actor ignores the next `count` kicks (it does not read its mailbox).
//   nmi:         KVM_NMI on one vCPU, by its own thread between two KVM_RUNs.
//   guest_write: the monitor stores a value into a kernel word (symbol + KASLR slide).
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>

namespace ktstr::msg {

struct fault_event {
  std::string kind;           ///< vcpu_stall, vcpu_jitter, kick_loss, nmi, guest_write
  std::string spec;           ///< as written: "vcpu_stall:1@4+3"
  uint32_t vcpu = 0;          ///< every kind but guest_write
  double at_s = 0;            ///< planned, seconds from VM start
  double seconds = 0;         ///< vcpu_stall, vcpu_jitter: how long
  uint32_t period_ms = 0;     ///< vcpu_jitter: a pause begins this often
  uint32_t pause_ms = 0;      ///< vcpu_jitter: each pause
  uint32_t count = 0;         ///< kick_loss: kicks to drop
  std::string symbol;         ///< guest_write
  uint64_t offset = 0;        ///< guest_write: bytes past the symbol
  uint32_t length = 8;        ///< guest_write: 1, 2, 4 or 8 bytes
  uint64_t value = 0;         ///< guest_write: what is stored
  uint64_t link_address = 0;  ///< guest_write: symbol + offset before the KASLR slide (resolved before boot)
  // -- what happened ---------------------------------------------------------
  double applied_at_s = -1;   ///< when it took effect (-1: never, the VM ended first or it failed)
  double ended_at_s = -1;     ///< stall / jitter: last release; kick_loss: the count used up (-1: not)
  uint32_t pauses = 0;        ///< vcpu_jitter: pauses begun
  uint32_t dropped = 0;       ///< kick_loss: kicks ignored
  bool accepted = false;      ///< nmi: KVM took it; guest_write: the value was stored
  uint64_t old_value = 0;     ///< guest_write: read just before the store (when accepted)
  uint64_t new_value = 0;     ///< guest_write: read back just after it
  std::string error;          ///< why it was not applied (empty: nothing went wrong)
};

/// vm actor tick: fault `index` begins (end = false) or ends; `cycle` counts a jitter's pauses.
struct fault_step {
  uint64_t index = 0;
  bool end = false;
  uint32_t cycle = 0;
};

/// To a vcpu (kick_loss): ignore the next `count` kicked exits, then report fault_outcome.
struct drop_kicks {
  uint64_t index = 0;
  uint32_t count = 0;
};

/// To a vcpu (nmi): KVM_NMI on its own thread, then report fault_outcome.
struct inject_nmi {
  uint64_t index = 0;
};

/// To the monitor (guest_write): store `value` (`length` bytes) at the slid link address,
/// once the kernel is located; answered with fault_outcome to the sender.
struct guest_write {
  uint64_t index = 0;
  uint64_t link_address = 0;
  uint32_t length = 8;
  uint64_t value = 0;
};

/// From a vcpu or the monitor to the vm actor: what fault `index` did (fault_event's fields).
struct fault_outcome {
  uint64_t index = 0;
  double applied_at_s = -1;
  double ended_at_s = -1;
  uint32_t dropped = 0;
  bool accepted = false;
  uint64_t old_value = 0;
  uint64_t new_value = 0;
  std::string error;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fault_event& x) {
  return f(caf::meta::type_name("fault_event"), x.kind, x.spec, x.vcpu, x.at_s, x.seconds, x.period_ms, x.pause_ms,
           x.count, x.symbol, x.offset, x.length, x.value, x.link_address, x.applied_at_s, x.ended_at_s, x.pauses,
           x.dropped, x.accepted, x.old_value, x.new_value, x.error);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fault_step& x) {
  return f(caf::meta::type_name("fault_step"), x.index, x.end, x.cycle);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, drop_kicks& x) {
  return f(caf::meta::type_name("drop_kicks"), x.index, x.count);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, inject_nmi& x) {
  return f(caf::meta::type_name("inject_nmi"), x.index);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, guest_write& x) {
  return f(caf::meta::type_name("guest_write"), x.index, x.link_address, x.length, x.value);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fault_outcome& x) {
  return f(caf::meta::type_name("fault_outcome"), x.index, x.applied_at_s, x.ended_at_s, x.dropped, x.accepted,
           x.old_value, x.new_value, x.error);
}

}  // namespace ktstr::msg
