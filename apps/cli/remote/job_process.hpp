#pragma once
// A worker's watcher of one running job: reads the run's output (one job_output per line
// to the client, and the job's own run.log), waits for the process, then sends the files the
// run left in its output folder (result.json first, bounded by job_limits) and job_done,
// to the client and to the worker (which frees the slot).
#include <caf/all.hpp>

#include <filesystem>
#include <sys/types.h>

namespace ktstr::cli {

struct JobProcess {
  uint64_t job_id = 0;
  pid_t pid = -1;
  int output_fd = -1;                ///< the run's stdout+stderr (read end; this actor closes it)
  std::filesystem::path out_dir;     ///< the run's --out
  std::filesystem::path log;         ///< the worker's copy of the run's output
  caf::actor client;
  caf::actor worker;
};

/// Spawn detached.
void job_process(caf::blocking_actor* self, JobProcess job);

}  // namespace ktstr::cli
