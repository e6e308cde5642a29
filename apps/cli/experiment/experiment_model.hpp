#pragma once
// An experiment: several VMs, each one `ktstr-actors run` (kernel, topology, scheduler,
// scenario), written out from [[vm]] tables and [[matrix]] expansions, with what each is
// expected to show and how they compare with a baseline. docs/experiments.md.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "apps/cli/scenario/scenario_model.hpp"

namespace ktstr::cli {

/// What a VM is expected to end as: its run's verdict, or anything that produced a result.
enum class ExpectedOutcome { pass, fail, inconclusive, any };
std::string_view to_string(ExpectedOutcome e);

struct ExperimentVm {
  std::string name;                 ///< [A-Za-z0-9_.-]; a matrix cell's is generated
  std::string kernel;               ///< path or cached name; empty: run's default
  std::string topology = "1,1,2,1";
  uint32_t memory_mib = 0;          ///< 0: run's default
  std::string scheduler;            ///< path; empty: the kernel's built-in scheduler
  std::vector<std::string> scheduler_args;
  std::string scenario;             ///< catalog name or file; empty: boot and topology check only
  uint32_t timeout_s = 0;           ///< 0: run's default
  uint32_t repeat = 1;              ///< runs of this VM (named NAME.1 .. NAME.N when > 1)
  ExpectedOutcome expect = ExpectedOutcome::pass;
  std::string expect_finding;       ///< a failed finding (check or message) must contain this
  std::vector<std::string> faults;  ///< run --fault specs, e.g. "vcpu_stall:1@5+3"
  std::vector<std::string> payload; ///< a program and its arguments run in the guest (run --payload); empty: none
  SourceRef where;
};

/// How the VMs compare with one of them.
struct ExperimentComparison {
  std::string baseline;              ///< a VM's name
  std::vector<std::string> metrics;  ///< empty: every known metric
  double worse_pct = 10;             ///< a metric this much worse than the baseline is "worse"
  bool fail_on_worse = false;        ///< a "worse" finding fails the experiment
  SourceRef where;
};

struct Experiment {
  std::string file;
  std::string name;
  std::string description;
  std::optional<uint32_t> jobs;  ///< local VMs at once; nullopt: what the host's CPUs allow (0: workers only)
  std::vector<std::string> workers;  ///< remote workers, HOST:PORT (ktstr-actors worker)
  std::optional<uint32_t> retry;     ///< times a run its worker lost is run again
  std::string worker_cert, worker_key, worker_ca;  ///< [workers] cert/key/ca: the client's credentials
  std::vector<ExperimentVm> vms;
  std::optional<ExperimentComparison> compare;
};

/// Bounds.
inline constexpr size_t kMaxExperimentVms = 256;   ///< after matrix expansion and repeats
inline constexpr uint32_t kMaxRepeat = 50;
inline constexpr uint32_t kMaxJobs = 64;
inline constexpr uint32_t kMaxRetry = 5;

}  // namespace ktstr::cli
