// Resource hygiene of a long-lived process: a worker runs 100 VM runs (a stand-in for
// `run`, so 100 runs take seconds) and must end them holding what it held before: the same
// open descriptors, no more threads, and its resident memory within a stated bound.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <fmt/format.h>

#include <fstream>
#include <string>

#include "apps/cli/base/exit_codes.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/fake_run.hpp"
#include "tests/support/worker_process.hpp"

using namespace ktstr;
namespace fs = std::filesystem;

namespace {

struct Usage {
  size_t fds = 0;
  long threads = 0;
  long rss_kib = 0;
};

Usage usage_of(pid_t pid) {
  Usage u;
  std::error_code ec;
  for (auto it = fs::directory_iterator(fmt::format("/proc/{}/fd", pid), ec); !ec && it != fs::directory_iterator();
       it.increment(ec))
    ++u.fds;
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string key;
  while (status >> key) {
    if (key == "Threads:") status >> u.threads;
    else if (key == "VmRSS:") status >> u.rss_kib;
    std::getline(status, key);
  }
  return u;
}

fs::path experiment_of(const fs::path& dir, const fs::path& kernel, int vms) {
  const auto file = dir / fmt::format("x{}.toml", vms);
  std::ofstream out(file);
  out << "name = \"hygiene\"\n[defaults]\nkernel = \"" << kernel.string() << "\"\n";
  for (int i = 0; i < vms; ++i) out << "[[vm]]\nname = \"vm" << i << "\"\n";
  return file;
}

}  // namespace

TEST_CASE("worker hygiene: 100 runs later a worker holds the same descriptors, no more threads, and at most 16 MiB "
          "more resident memory than after its first 10",
          "[remote]") {
  const auto dir = test::scratch_dir("worker-hygiene");
  const auto fake = test::write_remote_fake_run(dir);
  const auto kernel = dir / "bzImage";
  std::ofstream(kernel) << std::string(1 << 20, 'k');
  auto w = test::start_worker({"--runner", fake.string(), "--slots", "2", "--cache", (dir / "w").string()}, dir / "w.log");
  REQUIRE(w->port);
  auto run = [&](int vms, const std::string& out) {
    auto r = test::run_cli({"experiment", experiment_of(dir, kernel, vms).string(), "--host", "kvm", "--jobs", "0",
                            "--workers", w->address(), "--out", (dir / out).string()},
                           {}, 300);
    INFO(r.output);
    REQUIRE(r.exit_code == cli::exit_pass);
  };
  run(10, "warm");  // the first runs settle the allocator, the thread pools, the cache
  const auto before = usage_of(w->pid);
  run(100, "hundred");
  const auto after = usage_of(w->pid);
  INFO("before: " << before.fds << " fds, " << before.threads << " threads, " << before.rss_kib << " KiB; after: "
                  << after.fds << " fds, " << after.threads << " threads, " << after.rss_kib << " KiB");
  CHECK(after.fds == before.fds);
  CHECK(after.threads <= before.threads);
  CHECK(after.rss_kib - before.rss_kib <= 16 * 1024);
  // Nothing of the jobs is left on disk but the cache.
  size_t job_dirs = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir / "w" / "jobs", ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    job_dirs += it->is_directory(ec) && it.depth() == 1;
  CHECK(job_dirs == 0);
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}
