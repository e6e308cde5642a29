#include "apps/cli/commands/experiment_command.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/base/refusal.hpp"
#include "apps/cli/commands/host_command.hpp"
#include "apps/cli/experiment/experiment_catalog.hpp"
#include "apps/cli/experiment/experiment_parser.hpp"
#include "apps/cli/experiment/experiment_report.hpp"
#include "apps/cli/experiment/experiment_run.hpp"
#include "apps/cli/remote/credentials.hpp"
#include "apps/cli/remote/endpoint.hpp"
#include "apps/cli/report/html_report.hpp"
#include "kvm/host_probe.hpp"
#include "kvm/topology.hpp"

namespace fs = std::filesystem;

namespace ktstr::cli {

struct ExperimentCommand {
  CLI::App* command = nullptr;
  ExperimentOptions options;
  std::optional<uint32_t> jobs, retry;
  std::string out, json, junit, html, runner;
};

namespace {

std::atomic<bool> g_stop{false};

void on_stop_signal(int) { g_stop.store(true); }

/// SIGINT/SIGTERM ask the orchestrator to stop (it still writes every run's result).
void catch_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

/// Written next to itself, then renamed: a reader never sees half a file.
void write_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) spdlog::warn("cannot write {}: {}", path.string(), ec.message());
}

uint32_t default_jobs(const Experiment& x, const std::string& host) {
  if (host != "kvm") return 1;
  uint32_t widest = 1;
  for (const auto& vm : x.vms)
    if (auto t = kvm::TopologySpec::parse(vm.topology))
      widest = std::max(widest, t->numa_nodes * t->llcs * t->cores_per_llc * t->threads_per_core);
  const uint32_t cpus = std::max(1u, std::thread::hardware_concurrency());
  return std::clamp(cpus / widest, 1u, kMaxJobs);
}

Experiment load(const std::string& name_or_path) {
  if (const auto* builtin = builtin_experiment(name_or_path)) return parse_experiment(builtin->source, builtin->file, "");
  if (name_or_path.find('/') == std::string::npos && !name_or_path.ends_with(".toml") && !fs::exists(name_or_path)) {
    std::string names;
    for (const auto& e : builtin_experiments()) names += (names.empty() ? "" : ", ") + e.name;
    throw ScenarioError("no built-in experiment \"" + name_or_path + "\" (built-in: " + names + "), and no such file");
  }
  return parse_experiment_file(name_or_path);
}

int list_experiments() {
  for (const auto& e : builtin_experiments()) {
    const auto x = parse_experiment(e.source, e.file, "");
    size_t runs = 0;
    for (const auto& vm : x.vms) runs += vm.repeat;
    std::cout << fmt::format("{:<20} {:>3} run(s)  {}\n", e.name, runs, x.description);
  }
  return exit_pass;
}

/// Inside one nested software-KVM host: the whole experiment, its runs using that host's /dev/kvm.
int run_in_nested_host(const ExperimentOptions& o, const Environment& env, const std::string& why, uint32_t jobs) {
  std::cout << "host: nested software-KVM host for the whole experiment (" << why << ")" << std::endl;
  NestedHostOptions nested;
  nested.environment = env;
  nested.command = {fs::read_symlink("/proc/self/exe").string(), "experiment", o.experiment, "--host=kvm",
                    "--out", o.out_dir->string(), "--jobs", std::to_string(jobs)};
  if (o.json) nested.command.insert(nested.command.end(), {"--json", o.json->string()});
  if (o.junit) nested.command.insert(nested.command.end(), {"--junit", o.junit->string()});
  if (o.html) nested.command.insert(nested.command.end(), {"--html", o.html->string()});
  nested.writable.push_back(*o.out_dir);
  if (o.json) nested.writable.push_back(o.json->parent_path());
  if (o.junit) nested.writable.push_back(o.junit->parent_path());
  if (o.html) nested.writable.push_back(o.html->parent_path());
  if (fs::exists(o.experiment)) nested.readable.push_back(fs::path(o.experiment).parent_path());
  nested.memory_mib = 4096 + 1536 * jobs;
  nested.timeout_s = 24 * 3600;
  return host_exec_main(nested);
}

}  // namespace

std::shared_ptr<ExperimentCommand> add_experiment_command(CLI::App& app) {
  auto c = std::make_shared<ExperimentCommand>();
  c->command = app.add_subcommand("experiment", "run several VMs from an experiment file (or a built-in one) and "
                                                "compare them");
  c->command->add_option("experiment", c->options.experiment, "an experiment file (TOML) or a built-in name");
  c->command->add_flag("--list", c->options.list, "list the built-in experiments");
  c->command->add_option("--jobs", c->jobs, "VMs at once here (default: the host's CPUs over the widest VM; 1 nested; "
                                            "0: only on --workers)")
      ->check(CLI::Range(0u, kMaxJobs));
  c->command->add_option("--workers", c->options.workers, "remote workers HOST:PORT,... (ktstr-actors worker) that take "
                                                          "runs too")
      ->delimiter(',');
  c->command->add_option("--cert", c->options.cert, "this client's certificate for the workers (worker --init-ca)");
  c->command->add_option("--key", c->options.key, "its private key");
  c->command->add_option("--ca", c->options.ca, "the pool's CA: workers must present a certificate it signed");
  c->command->add_option("--retry", c->retry, "times a run its worker lost (gone, cut off, refused) is run again elsewhere")
      ->check(CLI::Range(0u, kMaxRetry));
  c->command->add_option("--out", c->out, "folder for every run's output and experiment.json");
  c->command->add_option("--json", c->json, "also write the experiment's result here");
  c->command->add_option("--junit", c->junit, "JUnit XML: one testcase per run");
  c->command->add_option("--html", c->html, "a self-contained HTML page: per run a per-CPU timeline, the comparison");
  c->command->add_option("--host", c->options.host, "where the VMs run: auto, kvm (this /dev/kvm), nested")
      ->check(CLI::IsMember({"auto", "kvm", "nested"}))
      ->capture_default_str();
  c->command->add_option("--runner", c->runner, "the program each VM run starts instead of this binary (tests)")
      ->group("");
  return c;
}

std::optional<int> run_experiment_command(ExperimentCommand& c, const Environment& env) {
  if (!c.command->parsed()) return std::nullopt;
  auto o = c.options;
  if (c.jobs) o.jobs = c.jobs;
  if (c.retry) o.retry = c.retry;
  if (!c.out.empty()) o.out_dir = c.out;
  if (!c.json.empty()) o.json = c.json;
  if (!c.junit.empty()) o.junit = c.junit;
  if (!c.html.empty()) o.html = c.html;
  if (!c.runner.empty()) o.runner = c.runner;
  return experiment_main(std::move(o), env);
}

int experiment_main(ExperimentOptions o, const Environment& env) {
  if (o.list) return list_experiments();
  if (o.experiment.empty()) return refuse(exit_usage, "experiment needs a file or a built-in name (or --list)");
  Experiment x;
  try {
    x = load(o.experiment);
  } catch (const ScenarioError& e) {
    return refuse(exit_experiment, e.what());
  }
  if (fs::exists(o.experiment)) o.experiment = fs::absolute(o.experiment).string();
  o.out_dir = fs::absolute(o.out_dir.value_or(fs::path("ktstr-experiment-" + x.name)));
  if (o.json) o.json = fs::absolute(*o.json);
  if (o.junit) o.junit = fs::absolute(*o.junit);
  if (o.html) o.html = fs::absolute(*o.html);
  std::error_code ec;
  fs::create_directories(*o.out_dir, ec);
  if (ec) return refuse(exit_usage, "cannot create " + o.out_dir->string() + ": " + ec.message());

  // Workers: the command line's, else the file's; credentials checked before anything runs.
  RemoteOptions remote;
  std::vector<std::string> workers = o.workers.empty() ? x.workers : o.workers;
  for (const auto& w : workers) {
    try {
      remote.workers.push_back(parse_endpoint(w));
    } catch (const RemoteError& e) {
      return refuse(exit_remote, "--workers: " + std::string(e.what()));
    }
  }
  remote.credentials = Credentials{o.cert, o.key, o.ca};
  if (remote.credentials.empty()) remote.credentials = Credentials{x.worker_cert, x.worker_key, x.worker_ca};
  if (!remote.credentials.empty()) {
    if (remote.workers.empty()) return refuse(exit_usage, "--cert/--key/--ca are for --workers");
    if (auto why = check_credentials(remote.credentials)) return refuse(exit_remote, *why);
  } else {
    for (const auto& w : remote.workers)
      if (!is_loopback(w.host))
        return refuse(exit_remote, "worker " + w.to_string() + " is not on loopback: give the pool's --cert, --key "
                                   "and --ca (worker --init-ca DIR makes them)");
  }
  remote.retry = o.retry.value_or(x.retry.value_or(0));
  remote.kernel_cache_dir = env.cache_dir;
  if (const char* path = std::getenv("PATH")) remote.path_env = path;
  if (o.jobs && *o.jobs == 0 && remote.workers.empty()) return refuse(exit_usage, "--jobs 0 needs --workers");

  std::string host = o.host;
  std::optional<uint32_t> local_jobs = o.jobs;
  if (host == "auto" || host == "nested") {
    const auto& probe = kvm::probe_host(env.kvm_device.value_or("/dev/kvm"));
    if (!remote.workers.empty() && host == "auto" && probe.verdict != kvm::ProbeVerdict::usable) {
      // The workers do the runs; this host runs none rather than a nested host for the whole experiment.
      std::cout << "local: no run here (" << probe.reason << "): every run goes to the workers" << std::endl;
      local_jobs = 0;
      host = "kvm";
    } else if (!remote.workers.empty() && host == "nested") {
      local_jobs = local_jobs.value_or(1);  // each local run boots a nested host of its own
    } else if (host == "nested" || probe.verdict != kvm::ProbeVerdict::usable) {
      return run_in_nested_host(o, env, host == "nested" ? "requested" : probe.reason, o.jobs.value_or(1));
    } else {
      host = "kvm";
    }
  }

  ExperimentState state;
  state.experiment = &x;
  state.host = host;
  const fs::path program = o.runner.value_or(fs::read_symlink("/proc/self/exe"));
  state.runs = plan_runs(x, program, *o.out_dir, host);
  state.outcomes.assign(state.runs.size(), std::nullopt);
  const uint32_t jobs = local_jobs.value_or(x.jobs.value_or(default_jobs(x, host)));
  std::cout << fmt::format("experiment {}: {} run(s) of {} VM(s), {} at once here{}; output in {}", x.name,
                           state.runs.size(), x.vms.size(), jobs,
                           remote.workers.empty() ? "" : fmt::format(", on {} worker(s) too", remote.workers.size()),
                           o.out_dir->string())
            << std::endl;

  const fs::path stream = *o.out_dir / "experiment.json";
  // The page too, as each run ends: a killed experiment leaves one as far as it got.
  auto write_progress = [&] {
    const auto comparisons = experiment_comparisons(state);
    const auto j = experiment_json(state, comparisons);
    write_atomically(stream, j.dump(2) + "\n");
    if (o.html) write_atomically(*o.html, experiment_html(j));
  };
  write_progress();
  catch_stop_signals();

  try {
    run_experiment(state, x, jobs, &g_stop, std::cout, write_progress, remote);
  } catch (const RemoteError& e) {
    return refuse(exit_remote, e.what());
  }
  state.finished = true;
  const auto comparisons = experiment_comparisons(state);
  const auto j = experiment_json(state, comparisons);
  write_atomically(stream, j.dump(2) + "\n");
  if (o.json) write_atomically(*o.json, j.dump(2) + "\n");
  if (o.junit) write_atomically(*o.junit, experiment_junit(state, comparisons));
  if (o.html) write_atomically(*o.html, experiment_html(j));
  for (const auto& line : experiment_summary(state, comparisons)) std::cout << line << "\n";
  std::cout << "result: " << stream.string() << std::endl;
  if (o.html) std::cout << "report: " << o.html->string() << std::endl;
  return experiment_exit_code(state, comparisons);
}

}  // namespace ktstr::cli
