#pragma once
// Every vCPU's state at a guest death or hang (run_finished::vcpu_states), as result.json's
// vm_end.vcpu_states and as a few lines of the human report: the faulting vCPU first,
// `rip` symbolized when the kernel's symbols and slide are known.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/cli/report/monitor_json.hpp"
#include "messages/run.hpp"

namespace ktstr::cli {

/// One vCPU: registers (hex strings), segments, GDT/IDT, pending events, MP state, APIC ID.
nlohmann::json vcpu_state_json(const msg::parked& state, bool faulting, const BacktraceNamer& name = {});
/// vm_end.vcpu_states, in run_finished's order (the faulting vCPU first).
nlohmann::json vcpu_states_json(const msg::run_finished& finished, const BacktraceNamer& name = {});
/// The human lines; empty when no state was recorded (a normal end).
std::vector<std::string> vcpu_state_summary(const msg::run_finished& finished, const BacktraceNamer& name = {});
/// "#GP(0x0) injected, NMI pending": what KVM_GET_VCPU_EVENTS said is in flight; "none".
std::string pending_events_text(const msg::vcpu_event_state& events);

}  // namespace ktstr::cli
