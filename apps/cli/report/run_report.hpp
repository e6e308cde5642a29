#pragma once
// The verdict of one `run` and its evidence, as a human summary and as JSON.
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/cli/base/run_options.hpp"
#include "apps/cli/report/monitor_json.hpp"
#include "apps/cli/vm/run_vm.hpp"
#include "apps/cli/verdict/topology_check.hpp"
#include "kvm/topology.hpp"

namespace ktstr::cli {

struct RunReport {
  std::string verdict;            ///< pass, fail, error
  int exit_code = 0;
  std::vector<std::string> reasons;  ///< one line each, why the verdict is not pass
  nlohmann::json json;
  std::string table;              ///< declared vs observed topology
  std::vector<std::string> evidence;  ///< console lines worth showing (panic, last lines)
  std::string scenario_summary;       ///< per-cgroup results and findings of a scenario run
  std::vector<std::string> monitor_summary;  ///< what the monitor saw, per CPU
  std::vector<std::string> bug_summary;      ///< a scheduler error's failure dump, readable
  std::vector<std::string> vcpu_states;      ///< every vCPU's state at a guest death or hang, faulting first
};

/// `name` symbolizes guest kernel addresses (exit backtraces, watchpoint writers) when symbols are known.
RunReport make_run_report(const RunOptions& options, const std::filesystem::path& kernel,
                          const kvm::Topology& declared, const RunObservation& obs, const VmRunPaths& paths,
                          const BacktraceNamer& name = {});
void print_run_summary(std::ostream& out, const RunReport& report);
/// Every snapshot with its registers (snapshots.json).
nlohmann::json snapshots_json(const std::vector<msg::snapshot>& snapshots);
void write_run_json(const RunReport& report, const std::filesystem::path& path);

}  // namespace ktstr::cli
