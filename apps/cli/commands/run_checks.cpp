#include "apps/cli/commands/run_checks.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "apps/cli/base/exit_codes.hpp"

namespace ktstr::cli {

namespace fs = std::filesystem;

namespace {

std::string seconds_text(double s) {
  std::ostringstream out;
  out << s;
  return out.str();
}

/// A file's directory must exist: the run would otherwise end without its result.
std::optional<Refusal> directory_of(const std::optional<fs::path>& file, const char* option) {
  if (!file) return std::nullopt;
  const fs::path dir = fs::absolute(*file).parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return Refusal{exit_usage, std::string(option) + " " + file->string() + ": directory " + dir.string() +
                                   " does not exist"};
  return std::nullopt;
}

}  // namespace

std::optional<Refusal> check_run_options(const RunOptions& o, unsigned extra_s,
                                         std::optional<uint64_t> host_memory) {
  if (o.timeout_s == 0) return Refusal{exit_usage, "--timeout 0: the run deadline must be at least 1 second"};
  if (o.timeout_s > kMaxTimeoutS)
    return Refusal{exit_usage, "--timeout " + std::to_string(o.timeout_s) + ": at most " +
                                   std::to_string(kMaxTimeoutS) + " seconds (a day)"};
  const unsigned deadline_s = o.timeout_s + extra_s;
  for (double at : o.freeze_at_s) {
    if (!std::isfinite(at) || at < 0)
      return Refusal{exit_usage, "--freeze-at " + seconds_text(at) + ": a time in seconds, 0 or more"};
    if (at >= deadline_s)
      return Refusal{exit_usage, "--freeze-at " + seconds_text(at) + " is not before the run deadline (" +
                                     std::to_string(deadline_s) + " s: --timeout " + std::to_string(o.timeout_s) +
                                     (extra_s ? " + " + std::to_string(extra_s) + " s for the scenario" : "") + ")"};
  }
  if (o.snapshots > kMaxSnapshots)
    return Refusal{exit_usage, "--snapshots " + std::to_string(o.snapshots) + ": at most " +
                                   std::to_string(kMaxSnapshots)};
  if (host_memory && o.memory_mib > *host_memory)
    return Refusal{exit_memory, "--memory " + std::to_string(o.memory_mib) + " MiB is more than this host has (" +
                                    std::to_string(*host_memory) + " MiB)"};
  if (auto r = directory_of(o.json, "--json")) return r;
  if (auto r = directory_of(o.junit, "--junit")) return r;
  return std::nullopt;
}

std::optional<uint64_t> host_memory_mib() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  while (in >> key >> kib) {
    if (key == "MemTotal:") return kib / 1024;
    in.ignore(1 << 10, '\n');
  }
  return std::nullopt;
}

}  // namespace ktstr::cli
