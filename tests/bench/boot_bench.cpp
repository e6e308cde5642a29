// boot_bench: boot-to-agent time of ktstr-actors against QEMU microvm and q35, same
// kernel, initramfs and command line. A benchmark, not a test: it prints numbers and
// a goal line; it fails (exit 1) only when it could not measure at all. Needs /dev/kvm
// (run it inside the nested host here); --accel tcg checks the QEMU lines without it.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "apps/cli/base/environment.hpp"
#include "apps/cli/process/child_process.hpp"
#include "apps/cli/guest/guest_image.hpp"
#include "apps/cli/kernel/kernel_cache.hpp"
#include "apps/cli/guest/kernel_cmdline.hpp"
#include "bench_report.hpp"
#include "vmm_sample.hpp"

namespace fs = std::filesystem;
using namespace ktstr::bench;

namespace {

// First line of `qemu --version`, read through a pipe with a bound.
std::string qemu_version(const fs::path& qemu) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return "unknown";
  pid_t pid = -1;
  try {
    pid = ktstr::cli::spawn_process(qemu, {qemu.string(), "--version"}, {{1, p[1]}});
  } catch (const std::exception&) {
  }
  ::close(p[1]);
  std::string text;
  char buf[512];
  ssize_t n;
  while (text.size() < 4096 && (n = ::read(p[0], buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(p[0]);
  if (pid > 0) {
    int status;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  text = text.substr(0, text.find('\n'));
  return text.empty() ? "unknown" : text;
}

std::vector<Vmm> parse_vmms(const std::vector<std::string>& names) {
  std::vector<Vmm> vmms;
  for (const auto& n : names) {
    if (n == "ours") vmms.push_back(Vmm::ours);
    else if (n == "microvm") vmms.push_back(Vmm::microvm);
    else if (n == "q35") vmms.push_back(Vmm::q35);
    else throw CLI::ValidationError("--vmms", "unknown VMM '" + n + "' (ours, microvm, q35)");
  }
  return vmms;
}

bool has(const std::vector<Vmm>& vmms, Vmm vmm) { return std::find(vmms.begin(), vmms.end(), vmm) != vmms.end(); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"boot-to-agent benchmark: ktstr-actors vs QEMU microvm and q35"};
  int runs = 5, warmup = 1, timeout_s = 120;
  std::string out_dir = "boot-bench-out", json_path, kernel, qemu, cli = KTSTR_CLI_PATH, accel = "kvm", initramfs;
  std::vector<std::string> vmm_names{"ours", "microvm", "q35"};
  app.add_option("--runs", runs, "measured boots per VMM, interleaved")->check(CLI::Range(1, 1000));
  app.add_option("--warmup", warmup, "uncounted rounds first (ours always boots once to write the initramfs)")
      ->check(CLI::Range(0, 100));
  app.add_option("--timeout", timeout_s, "seconds per boot before it counts as a failure")->check(CLI::Range(1, 3600));
  app.add_option("--out", out_dir, "directory for every boot's serial logs");
  app.add_option("--json", json_path, "write the samples, medians and ratios here");
  app.add_option("--kernel", kernel, "bzImage (default: the cached Debian 6.1 kernel)");
  app.add_option("--qemu", qemu, "qemu-system-x86_64 ($KTSTR_QEMU, else from PATH)");
  app.add_option("--cli", cli, "the ktstr-actors binary");
  app.add_option("--accel", accel, "kvm, or tcg to check the QEMU lines where there is no /dev/kvm")
      ->check(CLI::IsMember({"kvm", "tcg"}));
  app.add_option("--vmms", vmm_names, "which to boot, in this order per round")->delimiter(',');
  app.add_option("--initramfs", initramfs, "use this guest image instead of the one ours writes");
  CLI11_PARSE(app, argc, argv);
  const auto env = ktstr::cli::Environment::from_process();

  std::vector<Vmm> vmms;
  try {
    vmms = parse_vmms(vmm_names);
  } catch (const CLI::Error& e) {
    return app.exit(e);
  }
  BenchConfig config;
  config.cli = cli;
  config.accel = accel;
  config.timeout_s = timeout_s;
  config.cmdline = ktstr::cli::kBaseCmdline;
  if (!kernel.empty()) {
    config.kernel = fs::absolute(kernel);
  } else if (auto cached = ktstr::cli::cached_kernel(env.cache_dir, "default")) {
    config.kernel = *cached;
  } else {
    std::cerr << "boot_bench: no cached default kernel; run scripts/setup.sh or pass --kernel\n";
    return 1;
  }
  if (qemu.empty() && env.qemu) qemu = env.qemu->string();
  if (qemu.empty()) qemu = ktstr::cli::find_in_path("qemu-system-x86_64").value_or("").string();
  if ((has(vmms, Vmm::microvm) || has(vmms, Vmm::q35)) && qemu.empty()) {
    std::cerr << "boot_bench: qemu-system-x86_64 not found (package qemu-system-x86)\n";
    return 1;
  }
  config.qemu = qemu;
  const fs::path out = fs::absolute(out_dir);
  // QEMU's option parser splits on ',': a path with one would become another option.
  if (out.string().find(',') != std::string::npos || config.kernel.string().find(',') != std::string::npos) {
    std::cerr << "boot_bench: paths must not contain ','\n";
    return 1;
  }
  std::error_code ec;
  fs::create_directories(out, ec);

  std::vector<Sample> samples;
  std::string initramfs_source = "given with --initramfs";
  // The guest image: ours writes it on every run; its first boot (uncounted) leaves
  // the copy QEMU boots. Without ours, the CLI's own image builder writes it.
  if (!initramfs.empty()) {
    config.initramfs = fs::absolute(initramfs);
  } else if (has(vmms, Vmm::ours)) {
    Sample first = measure_boot(config, Vmm::ours, 0, out / "image-run");
    samples.push_back(first);
    config.initramfs = out / "initramfs.cpio";
    initramfs_source = "written by ktstr-actors run, reused for QEMU";
    fs::copy_file(first.dir / "initramfs.cpio", config.initramfs, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      std::cerr << "boot_bench: ours did not write its initramfs (" << ec.message() << "): "
                << (first.ok ? first.note : first.error) << "\n";
      return 1;
    }
  } else {
    config.initramfs = out / "initramfs.cpio";
    initramfs_source = "written by the CLI's guest image builder";
    try {
      ktstr::cli::build_guest_initramfs(config.initramfs, {.agent = ktstr::cli::agent_binary(env.agent)});
    } catch (const std::exception& e) {
      std::cerr << "boot_bench: cannot build the initramfs: " << e.what() << "\n";
      return 1;
    }
  }

  BenchContext ctx{qemu.empty() ? "not used" : qemu_version(config.qemu), config.kernel, config.initramfs,
                   initramfs_source, config.cmdline, accel, runs, timeout_s, vmms};
  print_header(std::cout, ctx);
  for (const auto& s : samples) print_sample(std::cout, s);
  // Warm-up rounds first (page cache, QEMU's firmware files), then the measured ones,
  // interleaved (ours, microvm, q35, ours, ...) so slow drift of a shared machine lands
  // on every VMM alike.
  const bool image_run = !samples.empty();  // ours' first boot already warmed ours once
  for (int round = 1; round <= warmup + runs; ++round) {
    const int run = round <= warmup ? 0 : round - warmup;
    for (Vmm vmm : vmms) {
      if (round == 1 && run == 0 && vmm == Vmm::ours && image_run) continue;
      const std::string tag = std::string(vmm_name(vmm)) + (run == 0 ? "-warm" + std::to_string(round) : "-" + std::to_string(run));
      samples.push_back(measure_boot(config, vmm, run, out / tag));
      print_sample(std::cout, samples.back());
    }
  }
  print_summary(std::cout, ctx, samples);
  if (!json_path.empty()) write_json(fs::absolute(json_path), ctx, samples);
  for (Vmm vmm : vmms)
    if (median_wall(samples, vmm)) return 0;
  return 1;  // not a single number: say so through the exit code too
}
