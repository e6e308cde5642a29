#include "apps/cli/remote/job_argv.hpp"

#include "apps/cli/base/command_words.hpp"

namespace ktstr::cli {

std::vector<std::string> job_run_argv(const msg::vm_job& job, const JobPaths& paths, const std::filesystem::path& program,
                                      const std::string& host) {
  std::vector<std::string> a = {program.string(), "run", "--host=" + host, "--topology", job.topology, "--out",
                                paths.out_dir.string(), "--json", (paths.out_dir / "result.json").string(),
                                "--kernel", paths.kernel.string()};
  if (job.memory_mib) a.insert(a.end(), {"--memory", std::to_string(job.memory_mib)});
  if (job.timeout_s) a.insert(a.end(), {"--timeout", std::to_string(job.timeout_s)});
  if (!paths.scenario_file.empty()) a.insert(a.end(), {"--scenario", paths.scenario_file.string()});
  else if (!job.scenario.empty()) a.insert(a.end(), {"--scenario", job.scenario});
  for (const auto& f : job.faults) a.insert(a.end(), {"--fault", f});
  if (!job.payload.empty() && !paths.payload_program.empty()) {
    auto words = job.payload;
    words.front() = paths.payload_program.string();
    a.insert(a.end(), {"--payload", join_command(words)});
  }
  if (!paths.scheduler.empty()) {
    a.insert(a.end(), {"--scheduler", paths.scheduler.string()});
    if (!job.scheduler_args.empty()) {
      a.push_back("--");
      a.insert(a.end(), job.scheduler_args.begin(), job.scheduler_args.end());
    }
  }
  return a;
}

}  // namespace ktstr::cli
