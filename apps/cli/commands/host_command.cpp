#include "apps/cli/commands/host_command.hpp"

#include <signal.h>

#include <cstdio>
#include <exception>
#include <filesystem>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/base/refusal.hpp"

namespace ktstr::cli {

namespace {

// Options checked before anything is started: one clear line for the first problem.
std::string usage_problem(const NestedHostOptions& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (o.command.empty()) return "no command given (host exec [options] -- CMD ARGS...)";
  for (const auto& dir : o.writable)
    if (!fs::is_directory(dir, ec)) return "--writable " + dir.string() + ": not a directory";
  if (!o.cwd.empty() && !fs::is_directory(o.cwd, ec)) return "working directory " + o.cwd.string() + " does not exist";
  for (const auto& e : o.env)
    if (e.empty() || e.front() == '=' || e.find('=') == std::string::npos) return "--env " + e + ": expected NAME=VALUE";
  if (o.timeout_s == 0) return "--timeout must be at least 1 second";
  if (o.cpus == 0 || o.cpus > 64) return "--cpus must be between 1 and 64";
  if (o.memory_mib < 256) return "--memory must be at least 256 MiB";
  return {};
}

}  // namespace

int host_exec_main(const NestedHostOptions& options) {
  if (std::string problem = usage_problem(options); !problem.empty()) {
    return refuse(exit_usage, "host exec: " + problem);
  }
  if (auto why = nested_host_unavailable(options)) {
    return refuse(exit_no_host, "host exec: no nested software-KVM host here: " + *why);
  }
  // The command's output is relayed to our stdout: if that reader goes away we keep
  // draining the guest rather than die of SIGPIPE with QEMU still running.
  ::signal(SIGPIPE, SIG_IGN);
  NestedHostResult result;
  try {
    result = nested_host_exec(options);
  } catch (const std::exception& e) {
    return refuse(exit_vmm_error, std::string("host exec: ") + e.what());
  }
  if (result.interrupted_by) {
    return refuse(128 + result.interrupted_by, "host exec: " + result.failure + "; killed the nested host");
  }
  if (result.timed_out) {
    return refuse(exit_nested_timeout, "host exec: " + result.failure + "; killed the nested host (outer console: " +
                                           result.console_log.string() + ")");
  }
  if (!result.failure.empty()) {
    return refuse(exit_nested_host_failed,
                  "host exec: " + result.failure + " (outer console: " + result.console_log.string() + ")");
  }
  if (result.refused) {  // the command's set-up, not the nested host, is at fault
    return refuse(exit_usage, "host exec: " + *result.refused);
  }
  return result.exit_status;
}

}  // namespace ktstr::cli
