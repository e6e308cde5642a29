#include "apps/cli/report/monitor_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "kvm/guest_kernel/scx_names.hpp"
#include "kvm/hex.hpp"

namespace ktstr::cli {

using guest_kernel::enable_state_name;
using guest_kernel::exit_kind_name;

namespace {

using guest_kernel::Reading;

nlohmann::json value(const Reading& r) { return r.ok ? nlohmann::json(r.value) : nlohmann::json(nullptr); }

nlohmann::json cpu_json(const guest_kernel::CpuSample& c, const Reading& jiffies) {
  nlohmann::json j = {{"cpu", c.cpu},
                      {"nr_running", value(c.nr_running)},
                      {"cfs_h_nr_queued", value(c.cfs_h_nr_queued)},
                      {"scx_nr_running", value(c.scx_nr_running)},
                      {"local_dsq_nr", value(c.local_dsq_nr)},
                      {"scx_flags", value(c.scx_flags)},
                      {"clock_ns", value(c.clock)}};
  j["curr"] = c.curr.ok ? nlohmann::json{{"pid", c.curr.pid}, {"comm", c.curr.comm}, {"policy", c.curr.policy}}
                        : nlohmann::json(nullptr);
  if (c.runnable_ok || !c.runnable.empty()) {
    auto list = nlohmann::json::array();
    for (const auto& t : c.runnable) {
      nlohmann::json task = {{"pid", t.pid}, {"comm", t.comm}, {"runnable_at", t.runnable_at}};
      // Signed, as the kernel's time_after(): jiffies wraps 5 minutes after boot.
      task["wait_jiffies"] = jiffies.ok ? nlohmann::json(static_cast<int64_t>(jiffies.value - t.runnable_at))
                                        : nlohmann::json(nullptr);
      list.push_back(std::move(task));
    }
    j["runnable"] = std::move(list);
    j["runnable_truncated"] = c.runnable_truncated;
  } else {
    j["runnable"] = nullptr;
  }
  return j;
}

nlohmann::json scx_json(const guest_kernel::ScxGlobals& g) {
  nlohmann::json j = {{"jiffies", value(g.jiffies)},
                      {"enable_state", g.enable_state.ok ? nlohmann::json(enable_state_name(g.enable_state.value))
                                                         : nlohmann::json(nullptr)},
                      {"exit_kind", g.exit_kind.ok ? nlohmann::json(exit_kind_name(g.exit_kind.value))
                                                   : nlohmann::json(nullptr)},
                      {"watchdog_timeout_jiffies", value(g.watchdog_timeout)}};
  j["ops"] = g.ops_name_ok ? nlohmann::json(g.ops_name) : nlohmann::json(nullptr);
  return j;
}

nlohmann::json cpus_json(const std::vector<guest_kernel::CpuSample>& cpus, const Reading& jiffies) {
  auto out = nlohmann::json::array();
  for (const auto& c : cpus) out.push_back(cpu_json(c, jiffies));
  return out;
}

/// " by vCPU 1 at 0x... (symbol)" when a watchpoint hit named the writer, else "".
std::string writer_text(int32_t vcpu, uint64_t rip, const BacktraceNamer& name) {
  if (vcpu < 0 || rip == 0) return {};
  const std::string symbol = name ? name(rip) : std::string();
  return fmt::format(" by vCPU {} at 0x{}{}", vcpu, kvm::to_hex(rip), symbol.empty() ? "" : " (" + symbol + ")");
}

}  // namespace

nlohmann::json exit_info_json(const guest_kernel::ScxExitInfo& info, const BacktraceNamer& name) {
  if (!info.ok) return {{"available", false}, {"unavailable", info.unavailable}};
  auto bt = nlohmann::json::array();
  for (uint64_t a : info.backtrace) {
    std::string text = "0x" + kvm::to_hex(a);
    if (name) text += " " + name(a);
    bt.push_back(text);
  }
  return {{"available", true}, {"kind", exit_kind_name(info.kind)}, {"exit_code", info.exit_code},
          {"reason", info.reason}, {"msg", info.msg}, {"backtrace", std::move(bt)}};
}

nlohmann::json guest_state_json(const msg::guest_state& state) {
  if (!state.ok) return {{"available", false}, {"unavailable", state.unavailable}};
  return {{"available", true}, {"sched_ext", scx_json(state.scx)}, {"cpus", cpus_json(state.cpus, state.scx.jiffies)}};
}

nlohmann::json monitor_json(const msg::monitor_report& r, const BacktraceNamer& name) {
  nlohmann::json j = {{"period_ms", r.period_ms}, {"available", r.available}};
  j["unavailable"] = r.unavailable.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.unavailable);
  j["kernel"] = {{"release", r.release},
                 {"banner", r.banner},
                 {"kaslr_slide", "0x" + kvm::to_hex(static_cast<uint64_t>(r.slide))},
                 {"page_offset_base", "0x" + kvm::to_hex(r.page_offset_base)},
                 {"paging_levels", r.five_level ? 5 : 4}};
  j["located_at_s"] = r.located_at_s >= 0 ? nlohmann::json(r.located_at_s) : nlohmann::json(nullptr);
  j["fields"] = {"nr_running", "cfs_h_nr_queued", "scx_nr_running", "local_dsq_nr", "scx_flags", "clock_ns", "curr",
                 "runnable", "jiffies", "enable_state", "exit_kind", "watchdog_timeout_jiffies", "ops"};
  auto unavailable = nlohmann::json::array();
  for (const auto& f : r.fields_unavailable) unavailable.push_back({{"field", f.field}, {"reason", f.reason}});
  j["unavailable_fields"] = std::move(unavailable);
  j["samples_dropped"] = r.samples_dropped;
  j["sampling_ms_total"] = r.sampling_s * 1e3;
  j["sampling_ms_per_sample"] = r.samples.empty() ? 0.0 : r.sampling_s * 1e3 / double(r.samples.size());
  auto samples = nlohmann::json::array();
  for (const auto& s : r.samples) {
    nlohmann::json run_ms = nlohmann::json::array();
    for (uint64_t ns : s.vcpu_run_ns) run_ms.push_back(ns ? nlohmann::json(double(ns) / 1e6) : nlohmann::json(nullptr));
    samples.push_back({{"at_s", s.at_s},
                       {"sched_ext", scx_json(s.scx)},
                       {"cpus", cpus_json(s.cpus, s.scx.jiffies)},
                       {"vcpu_run_ms", std::move(run_ms)}});
  }
  j["samples"] = std::move(samples);
  j["exit_poll_ms"] = r.exit_poll_ms;
  j["exit_watch"] = r.exit_watch;
  j["watch_path"] = r.watch_path.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.watch_path);
  j["watch_path_detail"] = r.watch_path_detail;
  j["watchpoint_hits"] = r.watchpoint_hits;
  // The writer, where a watchpoint hit named it (polling alone cannot).
  auto writer = [&name](nlohmann::json& event, int32_t vcpu, uint64_t rip) {
    event["vcpu"] = vcpu >= 0 ? nlohmann::json(vcpu) : nlohmann::json(nullptr);
    event["rip"] = rip ? nlohmann::json("0x" + kvm::to_hex(rip)) : nlohmann::json(nullptr);
    const std::string symbol = rip && name ? name(rip) : std::string();
    event["rip_symbol"] = symbol.empty() ? nlohmann::json(nullptr) : nlohmann::json(symbol);
  };
  auto events = nlohmann::json::array();
  for (const auto& e : r.exit_events) {
    nlohmann::json event = {{"at_s", e.at_s}, {"from", exit_kind_name(e.from)}, {"to", exit_kind_name(e.to)},
                            {"via", e.via}, {"froze", e.froze}, {"info", exit_info_json(e.info, name)}};
    writer(event, e.vcpu, e.rip);
    events.push_back(std::move(event));
  }
  j["exit_events"] = std::move(events);
  auto watches = nlohmann::json::array();
  for (const auto& w : r.watches)
    watches.push_back({{"slot", w.slot}, {"spec", w.spec}, {"symbol", w.symbol}, {"address", "0x" + kvm::to_hex(w.address)},
                       {"length", w.length}, {"freeze", w.freeze}, {"changes", w.changes},
                       {"from_step", w.from_step >= 0 ? nlohmann::json(w.from_step) : nlohmann::json(nullptr)},
                       {"when", w.when.empty() ? nlohmann::json(nullptr) : nlohmann::json(w.when)},
                       {"active_at_s", w.active_at_s >= 0 ? nlohmann::json(w.active_at_s) : nlohmann::json(nullptr)}});
  j["watches"] = std::move(watches);
  auto hits = nlohmann::json::array();
  for (const auto& e : r.watch_events) {
    nlohmann::json event = {{"slot", e.slot}, {"at_s", e.at_s}, {"old", e.old_value}, {"new", e.new_value},
                            {"via", e.via},   {"froze", e.froze}};
    writer(event, e.vcpu, e.rip);
    hits.push_back(std::move(event));
  }
  j["watch_events"] = std::move(hits);
  return j;
}

std::vector<std::string> monitor_summary(const msg::monitor_report& r, const BacktraceNamer& name) {
  std::vector<std::string> out;
  if (!r.available) {
    out.push_back(r.unavailable.empty() ? "monitor unavailable" : r.unavailable);
    return out;
  }
  out.push_back(fmt::format("monitor: {} sample(s) every {} ms from {:.1f} s, {:.2f} ms each; guest \"{}\", KASLR slide 0x{}",
                            r.samples.size(), r.period_ms, r.located_at_s,
                            r.samples.empty() ? 0.0 : r.sampling_s * 1e3 / double(r.samples.size()), r.release,
                            kvm::to_hex(static_cast<uint64_t>(r.slide))));
  struct CpuTally {
    size_t samples = 0;
    uint64_t nr_sum = 0, nr_max = 0, scx_max = 0, dsq_max = 0;
    std::map<std::string, size_t> running;  // "comm[pid]" -> samples
  };
  std::map<uint32_t, CpuTally> cpus;
  for (const auto& s : r.samples)
    for (const auto& c : s.cpus) {
      auto& t = cpus[c.cpu];
      if (c.nr_running.ok) {
        ++t.samples;
        t.nr_sum += c.nr_running.value;
        t.nr_max = std::max(t.nr_max, c.nr_running.value);
      }
      if (c.scx_nr_running.ok) t.scx_max = std::max(t.scx_max, c.scx_nr_running.value);
      if (c.local_dsq_nr.ok) t.dsq_max = std::max(t.dsq_max, c.local_dsq_nr.value);
      if (c.curr.ok) ++t.running[c.curr.comm + "[" + std::to_string(c.curr.pid) + "]"];
    }
  for (const auto& [cpu, t] : cpus) {
    std::string line = fmt::format("  CPU {}: nr_running mean {:.1f} max {}", cpu,
                                   t.samples ? double(t.nr_sum) / double(t.samples) : 0.0, t.nr_max);
    line += fmt::format(", scx max {}, local DSQ max {}", t.scx_max, t.dsq_max);
    if (!t.running.empty()) {
      auto top = std::max_element(t.running.begin(), t.running.end(),
                                  [](const auto& a, const auto& b) { return a.second < b.second; });
      size_t total = 0;
      for (const auto& [name, n] : t.running) total += n;
      line += fmt::format("; running most: {} ({:.0f}%)", top->first, 100.0 * double(top->second) / double(total));
    }
    out.push_back(std::move(line));
  }
  // The sched_ext enable states seen, each with when it was first seen.
  std::string states;
  std::string last;
  for (const auto& s : r.samples) {
    if (!s.scx.enable_state.ok) continue;
    std::string name = enable_state_name(s.scx.enable_state.value);
    if (name == last) continue;
    last = name;
    if (!states.empty()) states += " -> ";
    states += fmt::format("{} at {:.1f} s", name, s.at_s);
    if (name == "ENABLED" && s.scx.ops_name_ok && !s.scx.ops_name.empty()) states += " (" + s.scx.ops_name + ")";
  }
  if (!states.empty()) out.push_back("  sched_ext: " + states);
  if (!r.exit_events.empty()) {
    std::string kinds = "  sched_ext exit kind (" + r.exit_watch + "): " + exit_kind_name(r.exit_events.front().from);
    for (const auto& e : r.exit_events)
      kinds += fmt::format(" -> {} at {:.2f} s{}{}", exit_kind_name(e.to), e.at_s, writer_text(e.vcpu, e.rip, name),
                           e.froze ? " (froze)" : "");
    out.push_back(kinds);
  }
  if (!r.watch_path_detail.empty()) out.push_back("  watchpoints: " + r.watch_path_detail);
  for (const auto& w : r.watches) {
    std::string line = fmt::format("  watch {} {} (0x{}, {} bytes", w.slot, w.spec, kvm::to_hex(w.address), w.length);
    if (w.from_step >= 0)
      line += w.active_at_s >= 0 ? fmt::format(", from step {} at {:.2f} s", w.from_step, w.active_at_s)
                                 : fmt::format(", step {} never started: not watched", w.from_step);
    if (!w.when.empty()) line += ", events when " + w.when;
    line += fmt::format("): {} change(s)", w.changes);
    for (const auto& e : r.watch_events)
      if (e.slot == w.slot) {
        line += fmt::format(", first at {:.2f} s: {} -> {}{}", e.at_s, e.old_value, e.new_value,
                            writer_text(e.vcpu, e.rip, name));
        break;
      }
    out.push_back(std::move(line));
  }
  for (const auto& f : r.fields_unavailable) out.push_back("  unavailable: " + f.field + " (" + f.reason + ")");
  return out;
}

}  // namespace ktstr::cli
