#include "apps/cli/report/fault_json.hpp"

#include <fmt/format.h>

#include "kvm/hex.hpp"

namespace ktstr::cli {

namespace {

nlohmann::json time_or_null(double s) { return s >= 0 ? nlohmann::json(s) : nlohmann::json(nullptr); }
std::string hex(uint64_t v) { return "0x" + kvm::to_hex(v); }

}  // namespace

nlohmann::json fault_json(const msg::fault_event& f) {
  nlohmann::json j = {{"kind", f.kind},
                      {"spec", f.spec},
                      {"at_s", f.at_s},
                      {"applied_at_s", time_or_null(f.applied_at_s)},
                      {"ended_at_s", time_or_null(f.ended_at_s)},
                      {"error", f.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.error)}};
  if (f.kind != "guest_write") j["vcpu"] = f.vcpu;
  if (f.kind == "vcpu_stall" || f.kind == "vcpu_jitter") j["seconds"] = f.seconds;
  if (f.kind == "vcpu_jitter") {
    j["period_ms"] = f.period_ms;
    j["pause_ms"] = f.pause_ms;
    j["pauses"] = f.pauses;
  } else if (f.kind == "kick_loss") {
    j["count"] = f.count;
    j["dropped"] = f.dropped;
  } else if (f.kind == "nmi") {
    j["accepted"] = f.accepted;
  } else if (f.kind == "guest_write") {
    j["symbol"] = f.symbol;
    j["offset"] = f.offset;
    j["length"] = f.length;
    j["link_address"] = hex(f.link_address);
    j["value"] = f.value;
    j["written"] = f.accepted;
    j["old_value"] = f.accepted ? nlohmann::json(f.old_value) : nlohmann::json(nullptr);
    j["new_value"] = f.accepted ? nlohmann::json(f.new_value) : nlohmann::json(nullptr);
  }
  return j;
}

std::string fault_line(const nlohmann::json& f) {
  const std::string kind = f.value("kind", "");
  const auto& applied = f["applied_at_s"];
  const auto& ended = f["ended_at_s"];
  const std::string error = f["error"].is_string() ? f["error"].get<std::string>() : std::string();
  if (applied.is_null())
    return error.empty() ? std::string("not applied (the VM ended first)") : "not applied: " + error;
  const double at = applied.get<double>();
  const std::string until =
      ended.is_null() ? std::string(" until the VM ended") : fmt::format(" to {:.2f} s", ended.get<double>());
  if (kind == "vcpu_stall") return fmt::format("vCPU {} stalled from {:.2f} s{}", f["vcpu"].get<uint32_t>(), at, until);
  if (kind == "vcpu_jitter")
    return fmt::format("vCPU {} paused {} time(s) from {:.2f} s{}", f["vcpu"].get<uint32_t>(), f["pauses"].get<uint32_t>(),
                       at, until);
  if (kind == "kick_loss")
    return fmt::format("vCPU {} dropped {} of {} kick(s) from {:.2f} s{}", f["vcpu"].get<uint32_t>(),
                       f["dropped"].get<uint32_t>(), f["count"].get<uint32_t>(), at,
                       ended.is_null() ? std::string() : fmt::format(", the last at {:.2f} s", ended.get<double>()));
  if (kind == "nmi")
    return f["accepted"].get<bool>() ? fmt::format("NMI injected into vCPU {} at {:.2f} s", f["vcpu"].get<uint32_t>(), at)
                                     : fmt::format("KVM refused the NMI at {:.2f} s: {}", at, error);
  if (kind == "guest_write")
    return f["written"].get<bool>()
               ? fmt::format("{} was {}, now {} (written at {:.2f} s)", f["symbol"].get<std::string>(),
                             f["old_value"].get<uint64_t>(), f["new_value"].get<uint64_t>(), at)
               : "not written: " + error;
  return fmt::format("applied at {:.2f} s", at);
}

}  // namespace ktstr::cli
