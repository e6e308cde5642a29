#pragma once
// What a worker process is told: its slots, folders, what runs a job, and whether it
// refuses every job (and why).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

namespace ktstr::cli {

struct WorkerConfig {
  uint32_t slots = 1;
  std::filesystem::path cache_dir;   ///< content-addressed files (FileCache)
  std::filesystem::path jobs_dir;    ///< one folder per job while it lives
  uint64_t cache_bytes = 20ull << 30;
  std::filesystem::path program;     ///< what runs a job: this binary's `run` (tests: a stand-in)
  std::string host = "kvm";          ///< the --host each run gets
  std::string refuses;               ///< non-empty: every job is refused with this reason
  std::string host_name;
  std::chrono::seconds start_within{600};  ///< an accepted job not started by then is dropped
  std::chrono::seconds stop_grace{30};     ///< job_cancel: SIGTERM, SIGKILL after this
};

}  // namespace ktstr::cli
