// worker_bench: what remote workers cost the orchestration, with a stand-in for `run`
// (no VM: the figures are the harness's own overhead, not a guest's boot).
//   1. Overhead per VM: the same experiment of N instant VMs, run here (--jobs 1) and on
//      one worker on loopback (--jobs 0 --workers), interleaved rounds, median per VM and
//      the ratio remote/local; the first remote round (the kernel sent) is shown apart.
//   2. Message rate: J instant VMs, each printing L lines, across W workers on loopback;
//      the messages the orchestrator's side handles (offer, accept, start, started, one per
//      output line, one per result piece, done; the orchestrator's started/ended) per second.
// Usage: worker_bench [--vms 20] [--rounds 3] [--jobs 100] [--workers 4] [--slots 8] [--lines 100]
//                     [--kernel FILE] [--json FILE]
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <random>

#include "tests/support/cli.hpp"
#include "tests/support/worker_process.hpp"

namespace fs = std::filesystem;
using namespace ktstr;

namespace {

fs::path write_script(const fs::path& dir, const std::string& name, int lines) {
  const auto script = dir / name;
  std::ofstream(script) << "#!/bin/sh\n"
                           "json=''\n"
                           "while [ $# -gt 0 ]; do case \"$1\" in --json) json=\"$2\"; shift;; esac; shift; done\n"
                           "i=0; while [ $i -lt " << lines << " ]; do echo \"line $i of the run's progress\"; i=$((i+1)); done\n"
                           "echo '{\"verdict\":\"pass\",\"scenario\":{\"workers\":[{\"work_units\":1,\"max_gap_ms\":1}]}}' > \"$json\"\n";
  ::chmod(script.c_str(), 0755);
  return script;
}

fs::path write_experiment(const fs::path& path, const fs::path& kernel, int vms) {
  std::ofstream out(path);
  out << "name = \"bench\"\n[defaults]\nkernel = \"" << kernel.string() << "\"\n";
  for (int i = 0; i < vms; ++i) out << "[[vm]]\nname = \"vm" << i << "\"\n";
  return path;
}

double timed(const std::vector<std::string>& args, int& rc) {
  const auto began = std::chrono::steady_clock::now();
  const auto r = test::run_cli(args, {}, 1200);
  rc = r.exit_code;
  if (rc != 0) std::cerr << r.output << std::endl;
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"worker_bench: orchestration overhead of remote workers"};
  int vms = 20, rounds = 3, jobs = 100, workers = 4, lines = 100, slots = 8;
  std::string kernel_arg, json_out;
  app.add_option("--vms", vms, "VMs per overhead round");
  app.add_option("--rounds", rounds, "rounds of each (interleaved)");
  app.add_option("--jobs", jobs, "VMs in the message-rate run");
  app.add_option("--workers", workers, "workers in the message-rate run");
  app.add_option("--lines", lines, "output lines per VM in the message-rate run");
  app.add_option("--slots", slots, "slots per worker in the message-rate run");
  app.add_option("--kernel", kernel_arg, "the kernel file sent (default: 16 MiB of random bytes)");
  app.add_option("--json", json_out, "also write the figures here");
  CLI11_PARSE(app, argc, argv);

  const auto dir = test::scratch_dir("worker-bench");
  fs::path kernel = kernel_arg;
  if (kernel.empty()) {
    kernel = dir / "bzImage";
    std::mt19937_64 rng(1);
    std::ofstream out(kernel, std::ios::binary);
    for (int i = 0; i < (16 << 20) / 8; ++i) {
      const uint64_t v = rng();
      out.write(reinterpret_cast<const char*>(&v), 8);
    }
  }
  const auto quiet = write_script(dir, "run-quiet.sh", 1);
  const auto chatty = write_script(dir, "run-chatty.sh", lines);
  const auto x = write_experiment(dir / "overhead.toml", kernel, vms);
  nlohmann::json report;

  // 1. Overhead per VM.
  auto w = test::start_worker({"--runner", quiet.string(), "--cache", (dir / "w0").string()}, dir / "w0.log");
  if (!w->port) {
    std::cerr << "the worker did not start:\n" << w->output() << std::endl;
    return 1;
  }
  std::vector<double> local, remote;
  double cold = 0;
  int rc = 0;
  for (int round = 0; round <= rounds; ++round) {
    const double l = timed({"experiment", x.string(), "--host", "kvm", "--jobs", "1", "--runner", quiet.string(), "--out",
                            (dir / fmt::format("local{}", round)).string()},
                           rc);
    if (rc) return 1;
    const double r = timed({"experiment", x.string(), "--host", "kvm", "--jobs", "0", "--workers", w->address(), "--out",
                            (dir / fmt::format("remote{}", round)).string()},
                           rc);
    if (rc) return 1;
    if (round == 0) {
      cold = r;  // the kernel crosses once; round 0 of local warms the page cache alike
      continue;
    }
    local.push_back(l / vms);
    remote.push_back(r / vms);
    std::cout << fmt::format("round {}: local {:.1f} ms/VM, remote {:.1f} ms/VM", round, l / vms * 1000, r / vms * 1000)
              << std::endl;
  }
  const double ml = median(local), mr = median(remote);
  std::cout << fmt::format("overhead per VM ({} instant VMs, {} rounds, medians): local {:.1f} ms, one worker on "
                           "loopback {:.1f} ms: x{:.2f}; first remote round with the {:.1f} MiB kernel sent: {:.1f} ms/VM",
                           vms, rounds, ml * 1000, mr * 1000, mr / ml, fs::file_size(kernel) / 1048576.0,
                           cold / vms * 1000)
            << std::endl;
  report["overhead"] = {{"vms", vms}, {"rounds", rounds}, {"local_ms_per_vm", ml * 1000},
                        {"remote_ms_per_vm", mr * 1000}, {"ratio", mr / ml}, {"cold_remote_ms_per_vm", cold / vms * 1000}};
  w->kill(SIGTERM);

  // 2. Message rate: J VMs across W workers.
  std::vector<std::unique_ptr<test::WorkerProcess>> pool;
  std::string addresses;
  for (int i = 0; i < workers; ++i) {
    pool.push_back(test::start_worker({"--runner", chatty.string(), "--slots", std::to_string(slots), "--cache",
                                       (dir / fmt::format("w{}", i + 1)).string()},
                                      dir / fmt::format("w{}.log", i + 1)));
    if (!pool.back()->port) return 1;
    addresses += (addresses.empty() ? "" : ",") + pool.back()->address();
  }
  const auto many = write_experiment(dir / "many.toml", kernel, jobs);
  // Warm each worker's cache first so the rate is of messages, not of the kernel's bytes.
  timed({"experiment", write_experiment(dir / "warm.toml", kernel, workers).string(), "--host", "kvm", "--jobs", "0",
         "--workers", addresses, "--out", (dir / "warm").string()},
        rc);
  const double t = timed({"experiment", many.string(), "--host", "kvm", "--jobs", "0", "--workers", addresses, "--out",
                          (dir / "many").string()},
                         rc);
  if (rc) return 1;
  // Per VM: offer, accepted, start, started, `lines` output lines, 1 result piece, done, and
  // the runner's vm_run_started / vm_run_ended to the orchestrator.
  const int per_vm = 4 + lines + 1 + 1 + 2;
  const double rate = jobs * per_vm / t;
  std::cout << fmt::format("message rate: {} VMs on {} workers x {} slots ({} lines each), {:.2f} s: {} messages, "
                           "{:.0f} messages/s, {:.1f} VMs/s",
                           jobs, workers, slots, lines, t, jobs * per_vm, rate, jobs / t)
            << std::endl;
  report["messages"] = {{"vms", jobs}, {"workers", workers}, {"slots", slots}, {"lines", lines}, {"seconds", t},
                        {"messages", jobs * per_vm}, {"messages_per_s", rate}, {"vms_per_s", jobs / t}};
  if (!json_out.empty()) std::ofstream(json_out) << report.dump(2) << "\n";
  fs::remove_all(dir);
  return 0;
}
