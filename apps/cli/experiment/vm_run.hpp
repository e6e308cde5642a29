#pragma once
// One VM run of an experiment: the `ktstr-actors run` command line it is (its own output
// folder, its result.json there), and how it ended judged against what the VM expects.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/cli/experiment/experiment_model.hpp"

namespace ktstr::cli {

struct VmRun {
  size_t index = 0;         ///< in the experiment's run list
  size_t vm = 0;            ///< index into Experiment::vms
  uint32_t repeat = 1;      ///< 1..vm.repeat
  std::string name;         ///< the VM's name, or NAME.i with repeats
  std::filesystem::path out_dir;
  std::filesystem::path result_json;  ///< out_dir/result.json
  std::vector<std::string> argv;      ///< argv[0] is the program
};

/// Every run of every VM, in file order (repeats next to each other). `program` is the
/// ktstr-actors binary; `host` the --host every run gets ("kvm" inside a nested host).
std::vector<VmRun> plan_runs(const Experiment& x, const std::filesystem::path& program,
                             const std::filesystem::path& out_dir, const std::string& host);

/// How a run ended, as the experiment reports it.
struct VmOutcome {
  bool interrupted = false;     ///< the experiment was stopped before or while it ran
  int exit_code = -1;
  int signal = 0;
  double elapsed_s = 0;
  std::string error;            ///< could not be started, or lost by its worker
  bool lost = false;            ///< its worker could not run or finish it
  std::string where = "local";  ///< "local", or "worker HOST:PORT" (the last one it was sent to)
  uint32_t attempts = 1;        ///< times it was started (lost runs are run again when retry allows)
  std::optional<nlohmann::json> result;  ///< its result.json, when it wrote one
  std::string verdict;          ///< the run's verdict ("pass", "fail", ...), or "lost" without a result
  bool met = false;             ///< what the VM expects
  std::string why;              ///< one line: what was expected and seen
};

/// Judges a finished run (its result.json read from disk, bounded) against the VM.
VmOutcome judge_run(const ExperimentVm& vm, const VmRun& run, int exit_code, int signal, double elapsed_s,
                    const std::string& error, bool interrupted, bool lost = false);

}  // namespace ktstr::cli
