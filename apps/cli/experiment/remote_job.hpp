#pragma once
// An experiment VM as a remote job (messages/worker.hpp vm_job): its kernel (resolved as
// `run --kernel` would), scheduler, scenario file and payload program found here, hashed
// once per file, and sent by content. A VM that names something not here cannot go remote.
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "apps/cli/experiment/experiment_model.hpp"
#include "messages/worker.hpp"

namespace ktstr::cli {

struct RemoteJobSpec {
  msg::vm_job job;
  std::map<std::string, std::filesystem::path> files;  ///< sha256 -> the file here
};

/// Hashes each file once however many VMs name it.
class RemoteJobBuilder {
 public:
  RemoteJobBuilder(std::filesystem::path kernel_cache_dir, std::string path_env)
      : cache_dir_(std::move(kernel_cache_dir)), path_env_(std::move(path_env)) {}

  /// The VM's job, or nullopt with `why` (one line).
  std::optional<RemoteJobSpec> build(const ExperimentVm& vm, std::string& why);

 private:
  std::optional<msg::job_file> file(const std::filesystem::path& path, std::string& why);
  std::filesystem::path cache_dir_;
  std::string path_env_;
  std::map<std::filesystem::path, msg::job_file> hashed_;
};

}  // namespace ktstr::cli
