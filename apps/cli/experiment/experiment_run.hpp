#pragma once
// Runs an experiment's planned runs with the orchestrator actor (its own actor system),
// filling state.outcomes as each run ends and calling `progress_written` then (the
// command streams experiment.json there). Returns when every run has ended. With workers,
// the actor system loads CAF's middleman (and OpenSSL module with credentials), connects to
// each worker, and runs go to their slots as well as the `jobs` local ones.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "apps/cli/experiment/experiment_report.hpp"
#include "apps/cli/remote/endpoint.hpp"

namespace ktstr::cli {

struct RemoteOptions {
  std::vector<Endpoint> workers;
  Credentials credentials;                 ///< empty: plain TCP (workers on loopback only)
  uint32_t retry = 0;                      ///< times a run lost by its worker is run again
  std::filesystem::path kernel_cache_dir;  ///< to resolve VMs' kernels as `run` does
  std::string path_env;                    ///< PATH, for payload programs
};

/// Throws RemoteError when workers were asked for and none can take jobs, and there are no local slots.
void run_experiment(ExperimentState& state, const Experiment& x, uint32_t jobs, const std::atomic<bool>* stop,
                    std::ostream& out, const std::function<void()>& progress_written, const RemoteOptions& remote = {});

}  // namespace ktstr::cli
