#include "apps/cli/commands/worker_command.hpp"

#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <iostream>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/base/refusal.hpp"
#include "apps/cli/remote/credentials.hpp"
#include "apps/cli/remote/endpoint.hpp"
#include "apps/cli/remote/worker_service.hpp"
#include "kvm/host_probe.hpp"

namespace fs = std::filesystem;

namespace ktstr::cli {

struct WorkerCommand {
  CLI::App* command = nullptr;
  std::string listen = "127.0.0.1:7420";
  uint32_t slots = 1;
  std::string cert, key, ca, init_ca, cache, host = "kvm", runner;
  uint64_t cache_mib = 20480;
};

namespace {

std::atomic<bool> g_stop{false};
void on_stop(int) { g_stop.store(true); }

int init_ca_main(const std::string& dir) {
  try {
    const auto files = init_ca(dir);
    std::cout << "credentials for a worker pool in " << dir << ":\n"
              << "  " << files.ca_cert.string() << "      the CA: both sides trust it (--ca)\n"
              << "  " << files.ca_key.string() << "      its key: keep it offline; it signs new certificates\n"
              << "  " << files.worker_cert.string() << "  " << files.worker_key.string() << "  for workers (--cert, --key)\n"
              << "  " << files.client_cert.string() << "  " << files.client_key.string() << "  for experiments (--cert, --key)\n";
    return exit_pass;
  } catch (const RemoteError& e) {
    return refuse(exit_remote, e.what());
  }
}

}  // namespace

std::shared_ptr<WorkerCommand> add_worker_command(CLI::App& app) {
  auto c = std::make_shared<WorkerCommand>();
  c->command = app.add_subcommand("worker", "take VM runs from experiments on other hosts (experiment --workers)");
  c->command->add_option("--listen", c->listen, "ADDR:PORT to listen on (port 0: any; without credentials loopback only)")
      ->capture_default_str();
  c->command->add_option("--slots", c->slots, "VM runs at once")->check(CLI::Range(1u, 64u))->capture_default_str();
  c->command->add_option("--cert", c->cert, "this worker's certificate (PEM), from worker --init-ca");
  c->command->add_option("--key", c->key, "its private key (PEM)");
  c->command->add_option("--ca", c->ca, "the pool's CA certificate: clients must present one it signed");
  c->command->add_option("--init-ca", c->init_ca, "make a pool's credentials in this new folder, then exit");
  c->command->add_option("--cache", c->cache, "folder for received files and jobs (default: the cache's worker/)");
  c->command->add_option("--cache-mib", c->cache_mib, "received files kept, at most (least recently used go first)")
      ->capture_default_str();
  c->command->add_option("--host", c->host, "where runs boot: kvm (this /dev/kvm), nested (a nested host per run)")
      ->check(CLI::IsMember({"kvm", "nested"}))
      ->capture_default_str();
  c->command->add_option("--runner", c->runner, "the program each run starts instead of this binary (tests)")->group("");
  return c;
}

std::optional<int> run_worker_command(WorkerCommand& c, const Environment& env) {
  if (!c.command->parsed()) return std::nullopt;
  if (!c.init_ca.empty()) return init_ca_main(c.init_ca);
  Endpoint at;
  try {
    at = parse_endpoint(c.listen, true);
  } catch (const RemoteError& e) {
    return refuse(exit_remote, std::string("--listen: ") + e.what());
  }
  const Credentials creds{c.cert, c.key, c.ca};
  const bool tls = !creds.empty();
  if (tls) {
    if (auto why = check_credentials(creds)) return refuse(exit_remote, *why);
  } else if (!is_loopback(at.host)) {
    return refuse(exit_remote, fmt::format("--listen {}: without --cert, --key and --ca a worker listens on loopback "
                                           "only (worker --init-ca DIR makes credentials)",
                                           at.to_string()));
  }

  WorkerConfig wc;
  wc.slots = c.slots;
  const fs::path base = c.cache.empty() ? env.cache_dir / "worker" : fs::path(c.cache);
  wc.cache_dir = base / "files";
  wc.jobs_dir = base / "jobs" / std::to_string(::getpid());
  wc.cache_bytes = c.cache_mib << 20;
  wc.program = c.runner.empty() ? fs::read_symlink("/proc/self/exe") : fs::path(c.runner);
  wc.host = c.host;
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  wc.host_name = name;
  if (c.runner.empty() && c.host == "kvm") {
    const auto& probe = kvm::probe_host(env.kvm_device.value_or("/dev/kvm"));
    if (probe.verdict != kvm::ProbeVerdict::usable)
      wc.refuses = "no usable /dev/kvm here (" + probe.reason + "); start the worker with --host nested, or inside a nested host";
  }

  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  try {
    serve_worker(wc, at, creds, g_stop, std::cout);
  } catch (const RemoteError& e) {
    return refuse(exit_remote, e.what());
  }
  std::error_code ec;
  fs::remove_all(wc.jobs_dir, ec);
  // The runs still going are our children and die with us (PR_SET_PDEATHSIG).
  std::cout.flush();
  ::_exit(exit_pass);
}

}  // namespace ktstr::cli
