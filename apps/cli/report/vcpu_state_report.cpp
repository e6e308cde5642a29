#include "apps/cli/report/vcpu_state_report.hpp"

#include <fmt/format.h>

#include <iterator>

#include "kvm/hex.hpp"
#include "kvm/vcpu_state.hpp"

namespace ktstr::cli {

namespace {

constexpr const char* kGprNames[] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
                                     "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

std::string hex(uint64_t v) { return "0x" + kvm::to_hex(v); }

std::string named(uint64_t address, const BacktraceNamer& name) {
  const std::string n = name ? name(address) : std::string();
  return n.empty() ? hex(address) : hex(address) + " (" + n + ")";
}

/// The architectural exception mnemonics; vectors 32 and up are interrupts.
std::string vector_name(uint8_t nr) {
  static constexpr const char* kNames[] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "vector 9",
                                           "#TS", "#NP", "#SS", "#GP", "#PF", "vector 15", "#MF", "#AC", "#MC", "#XM",
                                           "#VE", "#CP"};
  if (nr < std::size(kNames)) return kNames[nr];
  return "vector " + std::to_string(nr);
}

nlohmann::json segment_json(const msg::segment_register& s) {
  return {{"selector", hex(s.selector)}, {"base", hex(s.base)}, {"limit", hex(s.limit)}, {"type", s.type},
          {"present", s.present},        {"dpl", s.dpl},        {"db", s.db},            {"s", s.s},
          {"l", s.l},                    {"g", s.g},            {"unusable", s.unusable}};
}

nlohmann::json events_json(const msg::vcpu_event_state& e) {
  return {{"exception", {{"injected", e.exception_injected}, {"pending", e.exception_pending},
                         {"nr", e.exception_nr}, {"has_error_code", e.exception_has_error_code},
                         {"error_code", hex(e.exception_error_code)}}},
          {"interrupt", {{"injected", e.interrupt_injected}, {"nr", e.interrupt_nr}, {"soft", e.interrupt_soft},
                         {"shadow", e.interrupt_shadow}}},
          {"nmi", {{"injected", e.nmi_injected}, {"pending", e.nmi_pending}, {"masked", e.nmi_masked}}},
          {"sipi_vector", e.sipi_vector},
          {"flags", hex(e.flags)},
          {"summary", pending_events_text(e)}};
}

}  // namespace

std::string pending_events_text(const msg::vcpu_event_state& e) {
  std::vector<std::string> parts;
  if (e.exception_injected || e.exception_pending)
    parts.push_back(vector_name(e.exception_nr) +
                    (e.exception_has_error_code ? "(" + hex(e.exception_error_code) + ")" : std::string()) +
                    (e.exception_injected ? " injected" : " pending"));
  if (e.interrupt_injected) parts.push_back(fmt::format("interrupt {} injected{}", e.interrupt_nr, e.interrupt_soft ? " (soft)" : ""));
  if (e.nmi_injected) parts.push_back("NMI injected");
  if (e.nmi_pending) parts.push_back("NMI pending");
  if (e.nmi_masked) parts.push_back("NMIs masked");
  if (e.interrupt_shadow) parts.push_back("interrupt shadow");
  if (parts.empty()) return "none";
  std::string out = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) out += ", " + parts[i];
  return out;
}

nlohmann::json vcpu_state_json(const msg::parked& p, bool faulting, const BacktraceNamer& name) {
  const auto& r = p.registers;
  nlohmann::json gprs = nlohmann::json::object();
  for (size_t i = 0; i < r.gprs.size() && i < std::size(kGprNames); ++i) gprs[kGprNames[i]] = hex(r.gprs[i]);
  nlohmann::json segments = nlohmann::json::object();
  for (size_t i = 0; i < r.segments.size() && i < std::size(msg::kSegmentNames); ++i)
    segments[msg::kSegmentNames[i]] = segment_json(r.segments[i]);
  const std::string symbol = name ? name(r.rip) : std::string();
  return {{"vcpu", p.vcpu},
          {"faulting", faulting},
          {"rip", hex(r.rip)},
          {"rip_symbol", symbol.empty() ? nlohmann::json(nullptr) : nlohmann::json(symbol)},
          {"rflags", hex(r.rflags)},
          {"gprs", gprs},
          {"cr0", hex(r.cr0)},
          {"cr2", hex(r.cr2)},
          {"cr3", hex(r.cr3)},
          {"cr4", hex(r.cr4)},
          {"cr8", hex(r.cr8)},
          {"efer", hex(r.efer)},
          {"apic_base", hex(r.apic_base)},
          {"segments", segments},
          {"gdt", {{"base", hex(r.gdt.base)}, {"limit", hex(r.gdt.limit)}}},
          {"idt", {{"base", hex(r.idt.base)}, {"limit", hex(r.idt.limit)}}},
          {"events", events_json(r.events)},
          {"mp_state", kvm::mp_state_name(r.mp_state)},
          {"lapic_id", r.lapic_id},
          {"unreadable", r.unreadable},
          {"note", r.note.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.note)}};
}

nlohmann::json vcpu_states_json(const msg::run_finished& fin, const BacktraceNamer& name) {
  auto out = nlohmann::json::array();
  for (const auto& p : fin.vcpu_states)
    out.push_back(vcpu_state_json(p, static_cast<int64_t>(p.vcpu) == fin.faulting_vcpu, name));
  return out;
}

std::vector<std::string> vcpu_state_summary(const msg::run_finished& fin, const BacktraceNamer& name) {
  std::vector<std::string> out;
  if (fin.vcpu_states.empty() && fin.vcpu_states_missing.empty()) return out;
  out.push_back(fin.faulting_vcpu >= 0 ? "vCPU states at the end (the faulting vCPU first):" : "vCPU states at the end:");
  for (const auto& p : fin.vcpu_states) {
    const auto& r = p.registers;
    const bool faulting = static_cast<int64_t>(p.vcpu) == fin.faulting_vcpu;
    const uint64_t rsp = r.gprs.size() > 6 ? r.gprs[6] : 0;
    out.push_back(fmt::format("  vCPU {}{}: rip {} rsp {} rflags {} cs {} cr0 {} cr2 {} cr3 {} cr4 {} efer {}", p.vcpu,
                              faulting ? " (faulting)" : "", named(r.rip, name), hex(rsp), hex(r.rflags), hex(r.cs),
                              hex(r.cr0), hex(r.cr2), hex(r.cr3), hex(r.cr4), hex(r.efer)));
    out.push_back(fmt::format("    {}, APIC ID {}, IDT {}/{}, GDT {}/{}, events: {}", kvm::mp_state_name(r.mp_state),
                              r.lapic_id, hex(r.idt.base), hex(r.idt.limit), hex(r.gdt.base), hex(r.gdt.limit),
                              pending_events_text(r.events)));
    for (const auto& u : r.unreadable) out.push_back("    unreadable: " + u);
    if (!r.note.empty()) out.push_back("    note: " + r.note);
  }
  if (fin.faulting_vcpu >= 0) {
    bool have = false;
    for (const auto& p : fin.vcpu_states) have = have || static_cast<int64_t>(p.vcpu) == fin.faulting_vcpu;
    if (!have) out.push_back(fmt::format("  vCPU {} (faulting): state not captured", fin.faulting_vcpu));
  }
  for (uint32_t v : fin.vcpu_states_missing)
    if (static_cast<int64_t>(v) != fin.faulting_vcpu) out.push_back(fmt::format("  vCPU {}: did not park in time", v));
  return out;
}

}  // namespace ktstr::cli
