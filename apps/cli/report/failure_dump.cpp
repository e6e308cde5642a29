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
  const auto* error = monitor ? scheduler_error(*monitor) : nullptr;
  j["exit"] = error ? nlohmann::json{{"at_s", error->at_s},
                                     {"from", guest_kernel::exit_kind_name(error->from)},
                                     {"to", guest_kernel::exit_kind_name(error->to)},
                                     {"via", error->via},
                                     {"vcpu", error->vcpu >= 0 ? nlohmann::json(error->vcpu) : nlohmann::json(nullptr)},
                                     {"rip", error->rip ? nlohmann::json(hex(error->rip)) : nlohmann::json(nullptr)},
                                     {"rip_symbol", error->rip && name ? nlohmann::json(name(error->rip)) : nlohmann::json(nullptr)},
                                     {"info", exit_info_json(error->info, name)}}
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
  if (error)
    out.push_back(error->vcpu >= 0 ? fmt::format("  the exit kind was written by vCPU {} at {} (slot 0 hardware watchpoint)",
                                                 error->vcpu, named(error->rip, name))
                                   : fmt::format("  the exit kind change was seen by {} (the writer is not known)", error->via));
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
  return out;
}

}  // namespace ktstr::cli
