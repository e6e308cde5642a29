#pragma once
// One injected fault as an entry of result.json's "faults", and its line in the human
// summary (docs/report-schema.md, "The run report's faults"). Every entry has
//   {kind, spec, at_s, applied_at_s, ended_at_s, error}   (times null when they did not happen)
// and by kind: vcpu_stall {vcpu, seconds}; vcpu_jitter {vcpu, seconds, period_ms, pause_ms,
// pauses}; kick_loss {vcpu, count, dropped}; nmi {vcpu, accepted}; guest_write {symbol,
// offset, length, link_address, value, written, old_value, new_value}.
#include <nlohmann/json.hpp>

#include <string>

#include "messages/fault.hpp"

namespace ktstr::cli {

nlohmann::json fault_json(const msg::fault_event& f);
/// What happened, after "fault SPEC: " (e.g. "vCPU 1 stalled from 14.02 s to 17.02 s").
std::string fault_line(const nlohmann::json& fault);

}  // namespace ktstr::cli
