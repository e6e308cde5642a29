#include "apps/cli/experiment/experiment_run.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include "actors/runtime_config.hpp"
#include "apps/cli/experiment/orchestrator.hpp"
#include "apps/cli/process/child_process.hpp"

namespace fs = std::filesystem;

namespace ktstr::cli {

namespace {

/// A run's process, its output into its own folder (the terminal gets the orchestrator's lines).
pid_t launch_run(const VmRun& run) {
  std::error_code ec;
  fs::create_directories(run.out_dir, ec);
  const fs::path log = run.out_dir / "run.log";
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot write " + log.string());
  pid_t pid = -1;
  try {
    pid = spawn_process(run.argv.front(), run.argv, {{1, fd}, {2, fd}});
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return pid;
}

}  // namespace

void run_experiment(ExperimentState& state, const Experiment& x, uint32_t jobs, const std::atomic<bool>* stop,
                    std::ostream& out, const std::function<void()>& progress_written) {
  caf::actor_system_config cfg;
  actors::configure_runtime(cfg);
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  OrchestratorConfig oc;
  oc.runs = state.runs;
  oc.jobs = jobs;
  oc.progress = &out;
  oc.stop = stop;
  oc.listener = caf::actor_cast<caf::actor>(self);
  oc.launch = launch_run;
  oc.on_end = [&](const VmRun& run, const msg::vm_run_ended& ended, bool interrupted) {
    auto outcome = judge_run(x.vms[run.vm], run, ended.exit_code, ended.signal, ended.elapsed_s, ended.error, interrupted);
    size_t done = 1;
    for (const auto& o : state.outcomes) done += o.has_value();
    out << fmt::format("[{}/{}] {}: {} ({})", done, state.runs.size(), run.name, outcome.met ? "met" : "NOT met", outcome.why)
        << std::endl;
    state.outcomes[run.index] = std::move(outcome);
    if (progress_written) progress_written();  // on disk as each run ends: nothing lost if we are killed
  };
  system.spawn(orchestrator, std::move(oc));
  self->receive([&](const msg::experiment_finished& f) { state.interrupted = f.interrupted; });
}

}  // namespace ktstr::cli
