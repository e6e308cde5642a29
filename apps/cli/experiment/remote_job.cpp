#include "apps/cli/experiment/remote_job.hpp"

#include <fmt/format.h>

#include "apps/cli/guest/payload_program.hpp"
#include "apps/cli/kernel/file_digest.hpp"
#include "apps/cli/kernel/kernel_cache.hpp"
#include "apps/cli/remote/job_limits.hpp"

namespace fs = std::filesystem;

namespace ktstr::cli {

namespace {

/// The base name a worker gives the file: the file's own where it is a plain name.
std::string job_name(const fs::path& path, const char* fallback) {
  const std::string name = path.filename().string();
  return valid_file_name(name) ? name : fallback;
}

}  // namespace

std::optional<msg::job_file> RemoteJobBuilder::file(const fs::path& path, std::string& why) {
  std::error_code ec;
  const fs::path real = fs::canonical(path, ec);
  if (ec || !fs::is_regular_file(real, ec)) {
    why = fmt::format("{}: no such file here", path.string());
    return std::nullopt;
  }
  if (auto it = hashed_.find(real); it != hashed_.end()) return it->second;
  const auto size = fs::file_size(real, ec);
  auto sha = file_sha256(real);
  if (ec || !sha) {
    why = fmt::format("{}: cannot be read", path.string());
    return std::nullopt;
  }
  if (size == 0 || size > kMaxJobFileBytes) {
    why = fmt::format("{}: {} bytes (1 .. {} can be sent)", path.string(), size, kMaxJobFileBytes);
    return std::nullopt;
  }
  msg::job_file f{*sha, size, job_name(path, "file")};
  hashed_[real] = f;
  return f;
}

std::optional<RemoteJobSpec> RemoteJobBuilder::build(const ExperimentVm& vm, std::string& why) {
  RemoteJobSpec spec;
  auto& j = spec.job;
  j.name = vm.name;
  j.topology = vm.topology;
  j.memory_mib = vm.memory_mib;
  j.timeout_s = vm.timeout_s;
  j.scheduler_args = vm.scheduler_args;
  j.faults = vm.faults;
  auto add = [&](const fs::path& path, msg::job_file& into, const char* fallback) {
    auto f = file(path, why);
    if (!f) return false;
    into = *f;
    if (!valid_file_name(into.name)) into.name = fallback;
    spec.files[into.sha256] = fs::canonical(path);
    return true;
  };
  const fs::path kernel = resolve_kernel(vm.kernel, cache_dir_);
  if (kernel.empty()) {
    why = fmt::format("kernel \"{}\": no such file here and no cached kernel of that name", vm.kernel);
    return std::nullopt;
  }
  if (!add(kernel, j.kernel, "bzImage")) return std::nullopt;
  j.kernel.name = job_name(kernel, "bzImage");
  if (!vm.scheduler.empty() && !add(vm.scheduler, j.scheduler, "scheduler")) return std::nullopt;
  if (!vm.scenario.empty()) {
    std::error_code ec;
    if (fs::is_regular_file(vm.scenario, ec)) {
      if (!add(vm.scenario, j.scenario_file, "scenario.toml")) return std::nullopt;
    } else {
      j.scenario = vm.scenario;  // a built-in scenario: the worker's binary knows it
    }
  }
  if (!vm.payload.empty()) {
    try {
      const auto program = resolve_payload_program(vm.payload.front(), {}, path_env_);  // as `run --payload` finds it
      if (!add(program.host, j.payload_program, "payload")) return std::nullopt;
    } catch (const PayloadProgramError& e) {
      why = e.what();
      return std::nullopt;
    }
    j.payload = vm.payload;
  }
  if (auto bad = check_job(j)) {
    why = *bad;
    return std::nullopt;
  }
  return spec;
}

}  // namespace ktstr::cli
