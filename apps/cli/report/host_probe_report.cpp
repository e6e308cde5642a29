#include "apps/cli/report/host_probe_report.hpp"

#include <iostream>

#include <fmt/format.h>

#include "apps/cli/base/exit_codes.hpp"

namespace ktstr::cli {

namespace {

constexpr std::size_t kMaxOuterProbeBytes = 16384;

double ms(std::chrono::nanoseconds t) { return static_cast<double>(t.count()) / 1e6; }

}  // namespace

nlohmann::json probe_json(const kvm::HostProbe& p) {
  const auto& o = p.observation;
  nlohmann::json runs = nlohmann::json::array();
  for (auto r : o.loop_runs) runs.push_back(ms(r));
  return {
      {"verdict", kvm::to_string(p.verdict)},
      {"reason", p.reason},
      {"device", o.device},
      {"device_exists", o.device_exists},
      {"failed_step", o.failed_step ? nlohmann::json(*o.failed_step) : nlohmann::json(nullptr)},
      {"loop_iterations", o.iterations},
      {"loop_ms", o.loop_time ? nlohmann::json(ms(*o.loop_time)) : nlohmann::json(nullptr)},
      {"loop_runs_ms", runs},
      {"loop_unfinished", o.loop_unfinished},
      {"emulated_threshold_ms", kvm::kEmulatedLoopThreshold.count()},
      {"deadline_ms", o.deadline.count()},
      {"probe_ms", ms(o.elapsed)},
      {"capabilities",
       {{"api_version", o.caps.api_version},
        {"immediate_exit", o.caps.immediate_exit},
        {"set_guest_debug", o.caps.set_guest_debug},
        {"kvmclock_ctrl", o.caps.kvmclock_ctrl},
        {"nr_vcpus", o.caps.nr_vcpus},
        {"max_vcpus", o.caps.max_vcpus},
        {"missing", o.caps.missing}}},
      {"modules", {{"kvm_pvm", o.modules.kvm_pvm}, {"kvm_amd", o.modules.kvm_amd}, {"kvm_intel", o.modules.kvm_intel}}},
  };
}

int probe_exit_code(kvm::ProbeVerdict verdict) {
  switch (verdict) {
    case kvm::ProbeVerdict::usable: return exit_pass;
    case kvm::ProbeVerdict::absent: return exit_no_host;
    case kvm::ProbeVerdict::emulated: return exit_kvm_emulated;
    case kvm::ProbeVerdict::broken: return exit_kvm_broken;
  }
  return exit_kvm_broken;
}

int host_probe_main(const std::string& device, bool json) {
  const kvm::HostProbe& p = kvm::probe_host(device);
  if (json) {
    std::cout << probe_json(p).dump(2) << "\n";
    return probe_exit_code(p.verdict);
  }
  const auto& o = p.observation;
  std::cout << "verdict: " << kvm::to_string(p.verdict) << "\n" << "reason: " << p.reason << "\n";
  if (o.device_exists && o.caps.api_version > 0) {
    std::cout << fmt::format(
        "capabilities: API {}, IMMEDIATE_EXIT {}, SET_GUEST_DEBUG {}, KVMCLOCK_CTRL {}, NR_VCPUS {}, MAX_VCPUS {}\n",
        o.caps.api_version, o.caps.immediate_exit ? "yes" : "no", o.caps.set_guest_debug ? "yes" : "no",
        o.caps.kvmclock_ctrl ? "yes" : "no", o.caps.nr_vcpus, o.caps.max_vcpus);
    for (const auto& m : o.caps.missing) std::cout << "missing: " << m << " (required)\n";
  }
  if (!o.loop_runs.empty()) {
    std::string runs;
    for (auto r : o.loop_runs) runs += (runs.empty() ? "" : ", ") + kvm::format_loop_time(r);
    std::cout << "probe loop: " << runs << " for " << o.iterations << " iterations (emulated at or above "
              << kvm::format_loop_time(kvm::kEmulatedLoopThreshold) << ")\n";
  }
  std::cout << "modules: kvm_pvm " << (o.modules.kvm_pvm ? "yes" : "no") << ", kvm_amd "
            << (o.modules.kvm_amd ? "yes" : "no") << ", kvm_intel " << (o.modules.kvm_intel ? "yes" : "no") << "\n";
  std::cout << fmt::format("probe took {:.1f} ms (deadline {} ms)\n", ms(o.elapsed), o.deadline.count());
  return probe_exit_code(p.verdict);
}

nlohmann::json host_json(const std::string& mode, const kvm::HostProbe* probe, const char* outer_probe_env) {
  nlohmann::json outer = nullptr;
  if (outer_probe_env && *outer_probe_env) {
    const std::string_view text(outer_probe_env);
    // Set by our own outer run, but it crossed a process boundary: bounded and checked.
    if (text.size() <= kMaxOuterProbeBytes) {
      auto parsed = nlohmann::json::parse(text, nullptr, false);
      if (parsed.is_object() && parsed.contains("verdict") && parsed["verdict"].is_string()) outer = parsed;
    }
  }
  return {{"mode", mode},
          {"probe", probe ? probe_json(*probe) : nlohmann::json(nullptr)},
          {"outer_probe", outer}};
}

std::vector<std::pair<std::string, std::string>> host_properties(const nlohmann::json& host) {
  std::vector<std::pair<std::string, std::string>> props;
  if (!host.is_object()) return props;
  auto add_probe = [&](const char* key, const std::string& prefix) {
    if (!host.contains(key) || !host[key].is_object()) return;
    const auto& p = host[key];
    if (p.contains("verdict") && p["verdict"].is_string()) props.emplace_back(prefix + ".verdict", p["verdict"].get<std::string>());
    if (p.contains("reason") && p["reason"].is_string()) props.emplace_back(prefix + ".reason", p["reason"].get<std::string>());
    if (p.contains("loop_ms") && p["loop_ms"].is_number())
      props.emplace_back(prefix + ".loop_ms", fmt::format("{:.3f}", p["loop_ms"].get<double>()));
  };
  if (host.contains("mode") && host["mode"].is_string()) props.emplace_back("host.mode", host["mode"].get<std::string>());
  add_probe("probe", "host.probe");
  add_probe("outer_probe", "host.outer_probe");
  return props;
}

}  // namespace ktstr::cli
