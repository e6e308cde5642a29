#pragma once
// The worker actor of `ktstr-actors worker`: takes VM jobs from clients (messages/worker.hpp),
// runs at most `slots` at once, each a child `ktstr-actors run` watched by a job_process,
// keeps the files jobs need in a content-addressed cache, and refuses what it cannot run
// with a reason (full, no usable /dev/kvm, a malformed job). A client that goes away has
// its jobs stopped; a peer that breaks the protocol loses that job, nothing else.
#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "apps/cli/remote/file_cache.hpp"
#include "apps/cli/remote/worker_config.hpp"
#include "messages/worker.hpp"

namespace ktstr::cli {

struct WorkerJob {
  msg::vm_job job;
  caf::actor client;
  std::vector<std::string> missing;         ///< sha256s still to come, in order
  std::unique_ptr<FileCache::Upload> upload; ///< the first missing one, arriving
  std::filesystem::path dir;
  int32_t pid = 0;                          ///< running: the run's process
  caf::actor_addr process;                  ///< running: its job_process
};

struct worker_state {
  WorkerConfig config;
  std::unique_ptr<FileCache> cache;
  std::map<uint64_t, WorkerJob> jobs;
  uint64_t next_id = 1;
  uint64_t jobs_run = 0;
  static constexpr const char* name = "worker";
};

caf::behavior worker_actor(caf::stateful_actor<worker_state>* self, WorkerConfig config);

}  // namespace ktstr::cli
