#include "apps/cli/experiment/experiment_run.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <unistd.h>

#include "actors/runtime_config.hpp"
#include "apps/cli/experiment/orchestrator.hpp"
#include "apps/cli/experiment/remote_job.hpp"
#include "apps/cli/remote/network.hpp"
#include "apps/cli/process/child_process.hpp"
#include "messages/worker.hpp"

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

/// Connects to each worker and asks what it offers; the ones that refuse jobs or cannot be
/// reached are named and left out.
std::vector<WorkerSlots> connect_workers(caf::actor_system& sys, const RemoteOptions& remote, std::ostream& out) {
  std::vector<WorkerSlots> slots;
  caf::scoped_actor self{sys};
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  for (const auto& ep : remote.workers) {
    const std::string where = "worker " + ep.to_string();
    caf::actor handle;
    try {
      handle = connect_to(sys, ep, !remote.credentials.empty());
    } catch (const RemoteError& e) {
      out << where << ": not used: " << e.what() << std::endl;
      continue;
    }
    msg::worker_info info;
    std::string failure;
    self->request(handle, std::chrono::seconds(20), msg::worker_hello{msg::worker_protocol, host})
        .receive([&](msg::worker_info& i) { info = std::move(i); }, [&](caf::error& e) { failure = sys.render(e); });
    if (!failure.empty()) {
      out << where << ": not used: no answer (" << failure << ")" << std::endl;
      continue;
    }
    if (!info.refuses.empty()) {
      out << where << ": not used: it refuses jobs: " << info.refuses << std::endl;
      continue;
    }
    out << fmt::format("{}: {} slot(s) on {} ({} busy)", where, info.slots, info.host, info.busy) << std::endl;
    slots.push_back({where, handle, std::max(1u, info.slots)});
  }
  return slots;
}

}  // namespace

void run_experiment(ExperimentState& state, const Experiment& x, uint32_t jobs, const std::atomic<bool>* stop,
                    std::ostream& out, const std::function<void()>& progress_written, const RemoteOptions& remote) {
  caf::actor_system_config cfg;
  actors::configure_runtime(cfg);
  if (!remote.workers.empty()) {
    configure_network(cfg, remote.credentials);
    // A worker cut off without a word (cable, firewall) is noticed within the timeout.
    cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::seconds(2)});
    cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(20)});
  }
  caf::actor_system system{cfg};
  caf::scoped_actor self{system};
  OrchestratorConfig oc;
  oc.runs = state.runs;
  oc.jobs = jobs;
  oc.progress = &out;
  oc.stop = stop;
  oc.listener = caf::actor_cast<caf::actor>(self);
  oc.launch = launch_run;
  oc.retry = remote.retry;
  if (!remote.workers.empty()) {
    oc.workers = connect_workers(system, remote, out);
    if (oc.workers.empty() && jobs == 0)
      throw RemoteError("no worker can take jobs (see above) and there are no local slots");
  }
  auto builder = std::make_shared<RemoteJobBuilder>(remote.kernel_cache_dir, remote.path_env);
  auto built = std::make_shared<std::map<size_t, std::pair<std::optional<RemoteJobSpec>, std::string>>>();
  oc.remote_job = [&x, builder, built](const VmRun& run, std::string& why) -> std::optional<RemoteRun> {
    auto it = built->find(run.vm);
    if (it == built->end()) {
      std::string reason;
      auto spec = builder->build(x.vms[run.vm], reason);
      it = built->emplace(run.vm, std::make_pair(std::move(spec), reason)).first;
    }
    if (!it->second.first) {
      why = it->second.second;
      return std::nullopt;
    }
    RemoteRun r;
    r.index = run.index;
    r.job = it->second.first->job;
    r.job.name = run.name;
    r.files = it->second.first->files;
    r.out_dir = run.out_dir;
    return r;
  };
  oc.on_end = [&](const VmRun& run, const msg::vm_run_ended& ended, bool interrupted, uint32_t attempts) {
    auto outcome = judge_run(x.vms[run.vm], run, ended.exit_code, ended.signal, ended.elapsed_s, ended.error,
                             interrupted, ended.lost);
    if (!ended.where.empty()) outcome.where = ended.where;
    outcome.attempts = std::max(1u, attempts);
    size_t done = 1;
    for (const auto& o : state.outcomes) done += o.has_value();
    out << fmt::format("[{}/{}] {}: {} ({}){}", done, state.runs.size(), run.name, outcome.met ? "met" : "NOT met",
                       outcome.why, outcome.where == "local" ? "" : " on " + outcome.where)
        << std::endl;
    state.outcomes[run.index] = std::move(outcome);
    if (progress_written) progress_written();  // on disk as each run ends: nothing lost if we are killed
  };
  system.spawn(orchestrator, std::move(oc));
  self->receive([&](const msg::experiment_finished& f) { state.interrupted = f.interrupted; });
}

}  // namespace ktstr::cli
