#pragma once
// The freeze protocol between the freeze coordinator and the vCPUs, and its result.
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "messages/monitor.hpp"

namespace ktstr::msg {

/// A vCPU's architectural state, captured on its own thread (KVM_GET_REGS/SREGS).
struct vcpu_registers {
  std::vector<uint64_t> gprs;  ///< rax rbx rcx rdx rsi rdi rsp rbp r8..r15
  uint64_t rip = 0, rflags = 0;
  uint64_t cr0 = 0, cr2 = 0, cr3 = 0, cr4 = 0, efer = 0;
  uint64_t fs_base = 0, gs_base = 0;
  uint16_t cs = 0;
};

/// Coordinator -> vcpu (followed by a native kick): complete pending I/O, capture
/// registers, reply parked, wait for thaw or stop.
struct freeze {
  uint64_t id = 0;
};

/// vcpu -> coordinator: frozen, with its registers.
struct parked {
  uint64_t freeze_id = 0;
  uint32_t vcpu = 0;
  vcpu_registers registers;
};

/// Coordinator -> vcpu: run again.
struct thaw {
  uint64_t freeze_id = 0;
};

/// Anyone -> coordinator: freeze every vCPU now and take a snapshot.
struct freeze_request {
  std::string trigger;  ///< "request", "periodic", "watchpoint", ...
};

/// Coordinator -> itself: the time to collect parked for this freeze is up.
struct freeze_deadline {
  uint64_t freeze_id = 0;
};

/// The coordinator's result for one freeze.
struct snapshot {
  uint64_t id = 0;
  std::string trigger;
  double at_s = 0;           ///< host seconds since VM start when the freeze began
  double latency_s = 0;      ///< freeze request to the last parked (or the deadline)
  double frozen_s = 0;       ///< how long the guest stood still
  bool partial = false;      ///< some vCPU did not park before the deadline
  std::vector<uint32_t> missing;
  std::vector<parked> vcpus;
  guest_state guest;         ///< the scheduler's state read while every vCPU stood still
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vcpu_registers& x) {
  return f(caf::meta::type_name("vcpu_registers"), x.gprs, x.rip, x.rflags, x.cr0, x.cr2, x.cr3, x.cr4, x.efer,
           x.fs_base, x.gs_base, x.cs);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, freeze& x) {
  return f(caf::meta::type_name("freeze"), x.id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, parked& x) {
  return f(caf::meta::type_name("parked"), x.freeze_id, x.vcpu, x.registers);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, thaw& x) {
  return f(caf::meta::type_name("thaw"), x.freeze_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, freeze_request& x) {
  return f(caf::meta::type_name("freeze_request"), x.trigger);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, freeze_deadline& x) {
  return f(caf::meta::type_name("freeze_deadline"), x.freeze_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, snapshot& x) {
  return f(caf::meta::type_name("snapshot"), x.id, x.trigger, x.at_s, x.latency_s, x.frozen_s, x.partial, x.missing,
           x.vcpus, x.guest);
}

}  // namespace ktstr::msg
