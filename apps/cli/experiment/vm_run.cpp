#include "apps/cli/experiment/vm_run.hpp"

#include "apps/cli/base/command_words.hpp"

#include <fmt/format.h>

#include <fstream>

#include "apps/cli/base/exit_codes.hpp"

namespace ktstr::cli {

namespace {

constexpr uintmax_t kMaxResultBytes = 256ull << 20;  // a result.json past this is not read

std::optional<nlohmann::json> read_result(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec || size > kMaxResultBytes) return std::nullopt;
  std::ifstream in(path);
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

/// A failed finding or a reason naming `text` (check name or message).
bool has_finding(const nlohmann::json& r, const std::string& text) {
  auto names = [&](const nlohmann::json& s) { return s.is_string() && s.get<std::string>().find(text) != std::string::npos; };
  if (r.contains("scenario") && r["scenario"].is_object() && r["scenario"].contains("findings"))
    for (const auto& f : r["scenario"]["findings"])
      if (f.is_object() && f.value("verdict", "") == "fail" && (names(f["check"]) || names(f["message"]))) return true;
  if (r.contains("reasons") && r["reasons"].is_array())
    for (const auto& reason : r["reasons"])
      if (names(reason)) return true;
  return false;
}

}  // namespace

std::vector<VmRun> plan_runs(const Experiment& x, const std::filesystem::path& program,
                             const std::filesystem::path& out_dir, const std::string& host) {
  std::vector<VmRun> runs;
  for (size_t v = 0; v < x.vms.size(); ++v) {
    const auto& vm = x.vms[v];
    for (uint32_t i = 1; i <= vm.repeat; ++i) {
      VmRun r;
      r.index = runs.size();
      r.vm = v;
      r.repeat = i;
      r.name = vm.repeat > 1 ? vm.name + "." + std::to_string(i) : vm.name;
      r.out_dir = out_dir / r.name;
      r.result_json = r.out_dir / "result.json";
      auto& a = r.argv;
      a = {program.string(), "run", "--host=" + host, "--topology", vm.topology, "--out", r.out_dir.string(),
           "--json", r.result_json.string()};
      if (!vm.kernel.empty()) a.insert(a.end(), {"--kernel", vm.kernel});
      if (vm.memory_mib) a.insert(a.end(), {"--memory", std::to_string(vm.memory_mib)});
      if (vm.timeout_s) a.insert(a.end(), {"--timeout", std::to_string(vm.timeout_s)});
      if (!vm.scenario.empty()) a.insert(a.end(), {"--scenario", vm.scenario});
      for (const auto& f : vm.faults) a.insert(a.end(), {"--fault", f});
      if (!vm.payload.empty()) a.insert(a.end(), {"--payload", join_command(vm.payload)});
      if (!vm.scheduler.empty()) {
        a.insert(a.end(), {"--scheduler", vm.scheduler});
        if (!vm.scheduler_args.empty()) {
          a.push_back("--");
          a.insert(a.end(), vm.scheduler_args.begin(), vm.scheduler_args.end());
        }
      }
      runs.push_back(std::move(r));
    }
  }
  return runs;
}

VmOutcome judge_run(const ExperimentVm& vm, const VmRun& run, int exit_code, int signal, double elapsed_s,
                    const std::string& error, bool interrupted, bool lost) {
  VmOutcome o;
  o.lost = lost;
  o.interrupted = interrupted;
  o.exit_code = exit_code;
  o.signal = signal;
  o.elapsed_s = elapsed_s;
  o.error = error;
  o.result = read_result(run.result_json);
  o.verdict = o.result && (*o.result).contains("verdict") && (*o.result)["verdict"].is_string()
                  ? (*o.result)["verdict"].get<std::string>()
                  : "lost";
  const std::string expected(to_string(vm.expect));
  if (lost) {
    o.result.reset();  // whatever a lost run left is not its result
    o.why = "lost: " + error;
    o.verdict = "lost";
  } else if (!error.empty()) {
    o.why = "not started: " + error;
  } else if (!o.result) {
    // A run the stop skipped ends with nothing: no exit, no signal, no time.
    const bool never_ran = interrupted && exit_code < 0 && signal == 0 && elapsed_s == 0;
    o.why = never_ran ? "not run: the experiment was interrupted"
            : signal ? fmt::format("no result: the run was ended by signal {}{}", signal, interrupted ? " (interrupted)" : "")
                     : fmt::format("no result: the run exited {} without writing {}", exit_code, run.result_json.string());
  } else {
    const bool verdict_ok = vm.expect == ExpectedOutcome::any || o.verdict == expected;
    const bool finding_ok = vm.expect_finding.empty() || has_finding(*o.result, vm.expect_finding);
    o.met = verdict_ok && finding_ok;
    o.why = fmt::format("expected {}{}, got {} (exit {})", expected,
                        vm.expect_finding.empty() ? "" : " with a finding \"" + vm.expect_finding + "\"", o.verdict,
                        exit_code);
    if (verdict_ok && !finding_ok) o.why += ": no failed finding names \"" + vm.expect_finding + "\"";
  }
  return o;
}

}  // namespace ktstr::cli
