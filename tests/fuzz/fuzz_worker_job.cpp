// What a worker takes from a peer: a job (fields from the input, split at NUL bytes)
// checked by check_job, result paths and file names, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "apps/cli/remote/job_limits.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) parts.emplace_back();
    else parts.back().push_back(static_cast<char>(data[i]));
  }
  auto at = [&](size_t i) { return i < parts.size() ? parts[i] : std::string(); };
  ktstr::msg::vm_job job;
  job.name = at(0);
  job.topology = at(1);
  job.scenario = at(2);
  job.kernel = {at(3), at(4).size() * 1000003ull, at(5)};
  job.scheduler = {at(6), at(7).size(), at(8)};
  job.payload_program = {at(9), 1, at(10)};
  for (size_t i = 11; i < parts.size(); ++i) (i % 3 == 0 ? job.faults : i % 3 == 1 ? job.payload : job.scheduler_args).push_back(parts[i]);
  (void)ktstr::cli::check_job(job);
  for (const auto& p : parts) {
    (void)ktstr::cli::valid_result_path(p);
    (void)ktstr::cli::valid_file_name(p);
    (void)ktstr::cli::valid_sha256(p);
  }
  return 0;
}
