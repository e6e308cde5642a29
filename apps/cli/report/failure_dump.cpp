#include "apps/cli/report/failure_dump.hpp"

#include <fmt/format.h>

#include "apps/cli/verdict/monitor_checks.hpp"
#include "apps/protocol/printable.hpp"
#include "kvm/guest_kernel/scx_names.hpp"
#include "kvm/hex.hpp"

namespace ktstr::cli {

namespace {

constexpr std::string_view kTrigger = "scheduler error";
constexpr size_t kRunnableShown = 8;

std::string hex(uint64_t v) { return "0x" + kvm::to_hex(v); }

std::string named(uint64_t address, const BacktraceNamer& name) {
  const std::string n = name ? name(address) : std::string();
  return n.empty() ? hex(address) : hex(address) + " (" + n + ")";
}

constexpr size_t kBpfMapsShown = 24;   // summary lines for maps; dump.json has them all
constexpr size_t kBpfFieldsShown = 6;  // name=value pairs on a .bss/.data line

nlohmann::json null_if_empty(const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); }

/// A rendered value: its one scalar as a string, else {field path: value}.
nlohmann::json value_json(const std::vector<guest_kernel::RenderedField>& fields) {
  if (fields.size() == 1 && fields[0].name.empty()) return fields[0].value;
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : fields) j[f.name] = f.value;
  return j;
}

nlohmann::json bpf_maps_json(const guest_kernel::BpfState& b) {
  using namespace guest_kernel;
  nlohmann::json j = {{"available", b.ok}, {"unavailable", null_if_empty(b.unavailable)}};
  j["caps"] = {{"maps", kBpfMaxMaps},
               {"entries_per_map", kBpfMaxEntries},
               {"fields_per_value", kBpfMaxFieldsPerValue},
               {"fields_total", kBpfMaxFieldsTotal},
               {"value_bytes", kBpfMaxValueBytes},
               {"btf_bytes_per_map", kBpfMaxBtfBytes},
               {"btf_bytes_total", kBpfMaxBtfTotal},
               {"hash_buckets_scanned", kBpfMaxBuckets}};
  j["maps_seen"] = b.maps_seen;
  j["maps_truncated"] = b.maps_seen > b.maps.size();
  j["problems"] = b.problems;
  auto maps = nlohmann::json::array();
  for (const auto& m : b.maps) {
    auto entries = nlohmann::json::array();
    for (const auto& e : m.entries)
      entries.push_back({{"key", e.key}, {"value", value_json(e.value)}, {"truncated", e.truncated}});
    maps.push_back({{"id", m.id},
                    {"name", m.name},
                    {"type", m.type_name},
                    {"type_id", m.type},
                    {"key_size", m.key_size},
                    {"value_size", m.value_size},
                    {"max_entries", m.max_entries},
                    {"map_flags", hex(m.map_flags)},
                    {"address", hex(m.address)},
                    {"btf", m.btf},
                    {"btf_note", null_if_empty(m.btf_note)},
                    {"entries_walked", m.entries_walked},
                    {"entries_truncated", m.entries_truncated},
                    {"entries_note", null_if_empty(m.entries_note)},
                    {"entries", std::move(entries)}});
  }
  j["maps"] = std::move(maps);
  return j;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void bpf_summary(const guest_kernel::BpfState& b, std::vector<std::string>& out) {
  if (!b.ok) {
    if (!b.unavailable.empty()) out.push_back("BPF maps: " + b.unavailable);
    return;
  }
  out.push_back(fmt::format("BPF maps: {} in map_idr{}", b.maps_seen,
                            b.maps_seen > b.maps.size() ? fmt::format(", first {} read", b.maps.size()) : ""));
  for (size_t i = 0; i < b.maps.size() && i < kBpfMapsShown; ++i) {
    const auto& m = b.maps[i];
    std::string line = fmt::format("  {} {} key/value {}/{} max {}", protocol::printable_excerpt(m.name, 16), m.type_name,
                                   m.key_size, m.value_size, m.max_entries);
    if ((ends_with(m.name, ".bss") || ends_with(m.name, ".data")) && !m.entries.empty()) {
      const auto& fields = m.entries.front().value;
      line += ":";
      for (size_t f = 0; f < fields.size() && f < kBpfFieldsShown; ++f)
        line += " " + (fields[f].name.empty() ? "" : fields[f].name + "=") + protocol::printable_excerpt(fields[f].value, 40);
      if (fields.size() > kBpfFieldsShown) line += fmt::format(" (+{} more)", fields.size() - kBpfFieldsShown);
    } else if (!m.entries_walked && m.entries_note.starts_with("entries not walked")) {
      line += " (" + m.entries_note + ")";
    }
    out.push_back(std::move(line));
  }
  if (b.maps.size() > kBpfMapsShown) out.push_back(fmt::format("  (+{} more in dump.json)", b.maps.size() - kBpfMapsShown));
  for (const auto& p : b.problems) out.push_back("  unreadable: " + protocol::printable_excerpt(p, 160));
}

/// The exit-kind change that asked for the snapshot (the error claim, or a teardown
/// whose exit info tells of one): where, when and by whom; the message may come later.
const msg::scx_exit_event* claim_of(const msg::monitor_report& monitor) {
  for (const auto& e : monitor.exit_events)
    if (e.froze) return &e;
  return scheduler_error(monitor);
}

}  // namespace

const msg::snapshot* failure_snapshot(const std::vector<msg::snapshot>& snapshots) {
  for (const auto& s : snapshots)
    if (s.trigger.rfind(kTrigger, 0) == 0) return &s;
  return nullptr;
}

nlohmann::json failure_dump_json(const msg::snapshot& snap, const msg::monitor_report* monitor,
                                 const BacktraceNamer& name) {
  nlohmann::json j = {{"trigger", snap.trigger}, {"at_s", snap.at_s},        {"latency_s", snap.latency_s},
                      {"partial", snap.partial}, {"missing", snap.missing}};
  const auto* error = monitor ? scheduler_error(*monitor) : nullptr;  // the one that tells the message
  const auto* claim = monitor ? claim_of(*monitor) : nullptr;          // the one that froze
  j["exit"] = claim ? nlohmann::json{{"at_s", claim->at_s},
                                     {"from", guest_kernel::exit_kind_name(claim->from)},
                                     {"to", guest_kernel::exit_kind_name(claim->to)},
                                     {"via", claim->via},
                                     {"vcpu", claim->vcpu >= 0 ? nlohmann::json(claim->vcpu) : nlohmann::json(nullptr)},
                                     {"rip", claim->rip ? nlohmann::json(hex(claim->rip)) : nlohmann::json(nullptr)},
                                     {"rip_symbol", claim->rip && name ? nlohmann::json(name(claim->rip)) : nlohmann::json(nullptr)},
                                     {"info", exit_info_json((error ? error : claim)->info, name)},
                                     {"after_teardown", claim->to == guest_kernel::kExitDone}}
                    : nlohmann::json(nullptr);
  if (monitor) j["ops"] = monitor->samples.empty() ? nlohmann::json(nullptr) : nlohmann::json(monitor->samples.back().scx.ops_name);
  auto vcpus = nlohmann::json::array();
  for (const auto& p : snap.vcpus) {
    const auto& r = p.registers;
    vcpus.push_back({{"vcpu", p.vcpu}, {"rip", hex(r.rip)}, {"rip_symbol", name ? name(r.rip) : ""},
                     {"rflags", hex(r.rflags)}, {"gprs", r.gprs}, {"cr3", hex(r.cr3)}, {"cs", r.cs}});
  }
  j["vcpus"] = std::move(vcpus);
  j["guest"] = guest_state_json(snap.guest);
  j["bpf_maps"] = bpf_maps_json(snap.guest.bpf);
  return j;
}

std::vector<std::string> bug_summary(const msg::snapshot& snap, const msg::monitor_report* monitor,
                                     const BacktraceNamer& name) {
  std::vector<std::string> out;
  out.push_back("=== BUG SUMMARY ===");
  const auto* error = monitor ? scheduler_error(*monitor) : nullptr;
  if (error && error->info.ok) {
    out.push_back(fmt::format("{} at {:.2f} s: {}{}", snap.trigger, error->at_s,
                              protocol::printable_excerpt(error->info.reason, 128),
                              error->info.msg.empty() ? "" : " (" + protocol::printable_excerpt(error->info.msg, 300) + ")"));
    if (!error->info.backtrace.empty()) {
      std::string bt = "  kernel backtrace:";
      for (size_t i = 0; i < error->info.backtrace.size() && i < 8; ++i)
        bt += (i ? " <- " : " ") + (name ? name(error->info.backtrace[i]) : hex(error->info.backtrace[i]));
      out.push_back(bt);
    }
  } else {
    out.push_back(fmt::format("{} (exit message unavailable{})", snap.trigger,
                              error ? ": " + error->info.unavailable : std::string()));
  }
  const auto* claim = monitor ? claim_of(*monitor) : nullptr;
  if (claim)
    out.push_back(claim->vcpu >= 0 ? fmt::format("  the exit kind was written by vCPU {} at {} (slot 0 hardware watchpoint)",
                                                 claim->vcpu, named(claim->rip, name))
                                   : fmt::format("  the exit kind change was seen by {} (the writer is not known)", claim->via));
  if (claim && claim->to == guest_kernel::kExitDone)
    out.push_back("  taken after the scheduler's teardown: the exit kind was first seen at DONE (polling missed the "
                  "error claim), so the scheduler's state is gone");
  out.push_back(fmt::format("every vCPU frozen at {:.2f} s in {:.1f} ms{}", snap.at_s, snap.latency_s * 1e3,
                            snap.partial ? " (partial)" : ""));
  for (const auto& p : snap.vcpus) out.push_back(fmt::format("  vCPU {}: rip {}", p.vcpu, named(p.registers.rip, name)));
  if (!snap.guest.ok) {
    out.push_back("  runqueues: " + snap.guest.unavailable);
    return out;
  }
  const auto& jiffies = snap.guest.scx.jiffies;
  for (const auto& c : snap.guest.cpus) {
    std::string line = fmt::format("  CPU {}: nr_running {}", c.cpu, c.nr_running.ok ? std::to_string(c.nr_running.value) : "?");
    if (c.curr.ok) line += fmt::format(", running {}[{}]", protocol::printable_excerpt(c.curr.comm, 16), c.curr.pid);
    if (!c.runnable.empty()) {
      line += "; runnable:";
      for (size_t i = 0; i < c.runnable.size() && i < kRunnableShown; ++i) {
        const auto& t = c.runnable[i];
        line += fmt::format(" {}[{}]", protocol::printable_excerpt(t.comm, 16), t.pid);
        if (jiffies.ok) line += fmt::format(" waiting {} jiffies", static_cast<int64_t>(jiffies.value - t.runnable_at));
        line += i + 1 < c.runnable.size() && i + 1 < kRunnableShown ? "," : "";
      }
      if (c.runnable.size() > kRunnableShown) line += fmt::format(" (+{} more)", c.runnable.size() - kRunnableShown);
    }
    out.push_back(std::move(line));
  }
  bpf_summary(snap.guest.bpf, out);
  return out;
}

}  // namespace ktstr::cli
