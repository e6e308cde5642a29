#pragma once
// The `ktstr-actors run` command line a worker starts for a job: the job's fields as run's
// options, its files by the paths the worker gave them (inside the job's folder), the
// worker's --host, its output folder and result.json.
#include <filesystem>
#include <string>
#include <vector>

#include "messages/worker.hpp"

namespace ktstr::cli {

struct JobPaths {
  std::filesystem::path kernel, scheduler, scenario_file, payload_program;  ///< empty: none in this job
  std::filesystem::path out_dir;
};

std::vector<std::string> job_run_argv(const msg::vm_job& job, const JobPaths& paths, const std::filesystem::path& program,
                                      const std::string& host);

}  // namespace ktstr::cli
