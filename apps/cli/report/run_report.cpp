#include "apps/cli/report/run_report.hpp"

#include "apps/cli/report/monitor_json.hpp"

#include <algorithm>
#include <fstream>

#include <spdlog/spdlog.h>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/report/fault_json.hpp"
#include "apps/cli/report/perf_json.hpp"
#include "apps/cli/report/vcpu_state_report.hpp"

namespace ktstr::cli {

namespace {

constexpr size_t kEvidenceLines = 25;

std::vector<std::string> last_lines(const std::vector<std::string>& lines, size_t n) {
  return {lines.end() - static_cast<long>(std::min(n, lines.size())), lines.end()};
}

/// Decides the verdict from how the VM ended and what the agent said. Order matters:
/// a panic or a VMM failure explains a missing report, so it is named first.
void judge(RunReport& r, const kvm::Topology& declared, const RunObservation& obs,
           std::vector<TopologyMismatch>& mismatches) {
  const auto& fin = obs.finished;
  using msg::run_end;
  auto set = [&](const char* verdict, int code, std::string reason) {
    if (r.verdict.empty() || r.verdict == "pass") {
      r.verdict = verdict;
      r.exit_code = code;
    }
    r.reasons.push_back(std::move(reason));
  };
  if (fin.how == run_end::no_kvm) set("error", exit_no_host, "no usable /dev/kvm: " + fin.detail);
  else if (fin.how == run_end::vmm_error || fin.how == run_end::vcpu_failed)
    set("error", exit_vmm_error, "VMM failure: " + fin.detail);
  else if (fin.how == run_end::hang) {
    set("fail", exit_guest_hang, "the guest hung: " + fin.detail);
    r.evidence = last_lines(fin.console_tail, kEvidenceLines);
  } else if (fin.how == run_end::panic || !fin.panic_lines.empty()) {
    set("fail", exit_guest_panic, "guest kernel panicked (" + fin.detail + ")");
    r.evidence = fin.panic_lines;
  } else if (!obs.boot_done) {
    set("error", exit_guest_timeout,
        std::string("the guest never reached the agent (") + msg::to_string(fin.how) + ": " + fin.detail + ")");
    r.evidence = last_lines(fin.console_tail, kEvidenceLines);
  }
  if (!r.verdict.empty() && r.verdict != "pass") return;
  if (fin.how == run_end::timeout)
    set("error", exit_guest_timeout, "the guest did not finish within the run deadline (" + fin.detail + ")");
  for (const auto& snap : obs.snapshots)
    if (snap.partial) {
      set("fail", exit_fail, "freeze " + std::to_string(snap.id) + " was partial: " + std::to_string(snap.missing.size()) +
                                 " vCPU(s) did not park");
      break;
    }

  if (!obs.topology) {
    set("error", exit_guest_protocol, "the agent reported no topology" +
                                          (obs.protocol_errors.empty() ? "" : " (" + obs.protocol_errors.front() + ")"));
    r.evidence = last_lines(fin.console_tail, kEvidenceLines);
    return;
  }
  mismatches = check_topology(declared, *obs.topology);
  if (!mismatches.empty())
    set("fail", exit_fail, std::to_string(mismatches.size()) + " topology field(s) differ from the declaration");
  if (r.verdict.empty()) r.verdict = "pass";
}

nlohmann::json freezes_json(const std::vector<msg::snapshot>& snaps) {
  auto list = nlohmann::json::array();
  std::vector<double> latencies;
  size_t partial = 0;
  for (const auto& s : snaps) {
    list.push_back({{"id", s.id}, {"trigger", s.trigger}, {"at_s", s.at_s}, {"latency_s", s.latency_s},
                    {"frozen_s", s.frozen_s}, {"partial", s.partial}, {"missing", s.missing}});
    latencies.push_back(s.latency_s);
    partial += s.partial;
  }
  std::sort(latencies.begin(), latencies.end());
  nlohmann::json out = {{"count", snaps.size()}, {"partial", partial}, {"list", list}};
  if (!latencies.empty()) {
    out["latency_median_s"] = latencies[latencies.size() / 2];
    out["latency_max_s"] = latencies.back();
  }
  return out;
}

}  // namespace

nlohmann::json snapshots_json(const std::vector<msg::snapshot>& snaps) {
  auto out = nlohmann::json::array();
  for (const auto& s : snaps) {
    auto vcpus = nlohmann::json::array();
    for (const auto& p : s.vcpus) {
      const auto& r = p.registers;
      vcpus.push_back({{"vcpu", p.vcpu}, {"rip", r.rip}, {"rflags", r.rflags}, {"gprs", r.gprs}, {"cr0", r.cr0},
                       {"cr2", r.cr2}, {"cr3", r.cr3}, {"cr4", r.cr4}, {"efer", r.efer}, {"fs_base", r.fs_base},
                       {"gs_base", r.gs_base}, {"cs", r.cs}});
    }
    out.push_back({{"id", s.id}, {"trigger", s.trigger}, {"at_s", s.at_s}, {"latency_s", s.latency_s},
                   {"frozen_s", s.frozen_s}, {"partial", s.partial}, {"missing", s.missing}, {"vcpus", vcpus},
                   {"guest", guest_state_json(s.guest)}});
  }
  return out;
}

RunReport make_run_report(const RunOptions& options, const std::filesystem::path& kernel,
                          const kvm::Topology& declared, const RunObservation& obs, const VmRunPaths& paths,
                          const BacktraceNamer& name) {
  RunReport r;
  std::vector<TopologyMismatch> mismatches;
  judge(r, declared, obs, mismatches);
  const auto& spec = declared.spec();
  const auto& fin = obs.finished;

  nlohmann::json j;
  j["verdict"] = r.verdict;
  j["exit_code"] = r.exit_code;
  j["reasons"] = r.reasons;
  j["kernel"] = {{"path", kernel.string()}};
  if (obs.kernel) j["kernel"].update({{"release", obs.kernel->release}, {"sched_ext", obs.kernel->sched_ext}});
  j["declared"] = {{"numa_nodes", spec.numa_nodes},     {"llcs", spec.llcs},
                   {"cores_per_llc", spec.cores_per_llc}, {"threads_per_core", spec.threads_per_core},
                   {"vcpus", declared.cpu_count()},      {"memory_mib", options.memory_mib}};
  j["boot"] = nullptr;
  if (obs.boot_done)
    j["boot"] = {{"host_to_agent_s", obs.boot_done_at_s}, {"guest_uptime_at_agent_s", obs.boot_done->uptime_s}};
  if (obs.topology) {
    j["topology"] = topology_check_json(declared, *obs.topology, mismatches);
    r.table = render_topology_table(declared, *obs.topology, mismatches);
  }
  j["vm_end"] = {{"how", msg::to_string(fin.how)},
                 {"detail", fin.detail},
                 {"elapsed_s", fin.elapsed_s},
                 {"agent_powered_off", obs.agent_powered_off},
                 {"stuck_vcpus", fin.stuck_vcpus},
                 {"faulting_vcpu", fin.faulting_vcpu >= 0 ? nlohmann::json(fin.faulting_vcpu) : nlohmann::json(nullptr)},
                 {"vcpu_states", vcpu_states_json(fin, name)},
                 {"vcpu_states_missing", fin.vcpu_states_missing}};
  r.vcpu_states = vcpu_state_summary(fin, name);
  j["freezes"] = freezes_json(obs.snapshots);
  auto faults = nlohmann::json::array();
  for (const auto& f : fin.faults) faults.push_back(fault_json(f));
  j["faults"] = std::move(faults);
  j["perf"] = fin.perf ? perf_json(*fin.perf) : nlohmann::json(nullptr);
  j["monitor"] = fin.monitor ? monitor_json(*fin.monitor, name) : nlohmann::json(nullptr);
  j["perf_off"] = obs.perf_off_reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(obs.perf_off_reason);
  j["heartbeats"] = {{"count", obs.heartbeat_at_s.size()},
                     {"last_at_s", obs.heartbeat_at_s.empty() ? nlohmann::json(nullptr) : nlohmann::json(obs.heartbeat_at_s.back())}};
  j["agent_errors"] = obs.agent_errors;
  j["protocol_errors"] = obs.protocol_errors;
  j["panic_lines"] = fin.panic_lines;
  j["console_tail"] = last_lines(fin.console_tail, kEvidenceLines);
  j["logs"] = {{"console", paths.kernel_log.string()}, {"agent", paths.agent_log.string()}};
  if (fin.monitor) r.monitor_summary = monitor_summary(*fin.monitor, name);
  r.json = std::move(j);
  return r;
}

void print_run_summary(std::ostream& out, const RunReport& r) {
  const auto& j = r.json;
  const auto& d = j["declared"];
  out << "kernel: " << j["kernel"]["path"].get<std::string>();
  if (j["kernel"].contains("release")) out << " (" << j["kernel"]["release"].get<std::string>() << ")";
  out << "\n";
  out << "declared topology: " << d["numa_nodes"] << " node(s) x " << d["llcs"] << " LLC(s) x " << d["cores_per_llc"]
      << " core(s)/LLC x " << d["threads_per_core"] << " thread(s)/core = " << d["vcpus"] << " vCPU(s), "
      << d["memory_mib"] << " MiB\n";
  if (!j["boot"].is_null())
    out << "boot to agent: " << fmt::format("{:.2f}", j["boot"]["host_to_agent_s"].get<double>()) << " s (guest uptime "
        << fmt::format("{:.2f}", j["boot"]["guest_uptime_at_agent_s"].get<double>()) << " s)\n";
  if (!r.table.empty()) out << r.table;
  const auto& end = j["vm_end"];
  out << "VM ended: " << end["how"].get<std::string>() << " (" << end["detail"].get<std::string>() << ") after "
      << fmt::format("{:.2f}", end["elapsed_s"].get<double>()) << " s\n";
  for (const auto& line : r.vcpu_states) out << line << "\n";
  for (const auto& f : j["faults"]) out << "fault " << f["spec"].get<std::string>() << ": " << fault_line(f) << "\n";
  if (j["freezes"]["count"].get<size_t>() > 0)
    out << "freezes: " << j["freezes"]["count"] << " (" << j["freezes"]["partial"] << " partial), park latency median "
        << fmt::format("{:.1f}", j["freezes"]["latency_median_s"].get<double>() * 1e3) << " ms, max "
        << fmt::format("{:.1f}", j["freezes"]["latency_max_s"].get<double>() * 1e3) << " ms\n";
  if (j["perf_off"].is_string()) out << "perf sampling: " << j["perf_off"].get<std::string>() << "\n";
  if (j["perf"].is_object() && j["perf"].contains("unavailable"))
    for (const auto& u : j["perf"]["unavailable"])
      out << "perf counter unavailable: " << u.value("name", "?") << " (" << u.value("reason", "?") << ")\n";
  if (!r.monitor_summary.empty())
    for (const auto& line : r.monitor_summary) out << line << "\n";
  for (const auto& e : j["agent_errors"]) out << "agent error: " << e.get<std::string>() << "\n";
  for (const auto& e : j["protocol_errors"]) out << "protocol error: " << e.get<std::string>() << "\n";
  if (!r.evidence.empty()) {
    out << "--- guest console ---\n";
    for (const auto& line : r.evidence) out << "  " << line << "\n";
    out << "---\n";
  }
  out << "kernel console log: " << j["logs"]["console"].get<std::string>() << "\n";
  out << r.scenario_summary;
  for (const auto& line : r.bug_summary) out << line << "\n";
  for (const auto& reason : r.reasons) out << "  - " << reason << "\n";
  std::string verdict = r.verdict;
  for (auto& c : verdict) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  out << "verdict: " << verdict << " (exit " << r.exit_code << ")\n";
}

void write_run_json(const RunReport& report, const std::filesystem::path& path) {
  std::ofstream out(path);
  if (!out) {
    spdlog::error("cannot write {}", path.string());
    return;
  }
  out << report.json.dump(2) << "\n";
}

}  // namespace ktstr::cli
