#include "apps/cli/remote/job_limits.hpp"

#include <fmt/format.h>

namespace ktstr::cli {

namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '+' || c == '-';
}

std::optional<std::string> check_file(const msg::job_file& f, const char* what, bool required) {
  if (f.sha256.empty()) {
    if (required) return fmt::format("the job has no {}", what);
    return std::nullopt;
  }
  if (!valid_sha256(f.sha256)) return fmt::format("the {}'s hash is not 64 lowercase hex digits", what);
  if (f.size == 0 || f.size > kMaxJobFileBytes)
    return fmt::format("the {} is {} bytes (1 .. {} allowed)", what, f.size, kMaxJobFileBytes);
  if (!valid_file_name(f.name)) return fmt::format("the {}'s name is not a plain file name", what);
  return std::nullopt;
}

bool plain_text(const std::string& s) {
  if (s.size() > kMaxJobString) return false;
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

}  // namespace

bool valid_sha256(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool valid_file_name(const std::string& s) {
  if (s.empty() || s.size() > 64 || s.front() == '.' || s.front() == '-' || s.front() == '+') return false;
  for (char c : s)
    if (!name_char(c)) return false;
  return true;
}

bool valid_result_path(const std::string& s) {
  if (s.empty() || s.size() > kMaxResultPath) return false;
  size_t depth = 0, begin = 0;
  while (begin <= s.size()) {
    const size_t end = std::min(s.find('/', begin), s.size());
    if (!valid_file_name(s.substr(begin, end - begin)) || ++depth > 8) return false;
    begin = end + 1;
  }
  return true;
}

std::optional<std::string> check_job(const msg::vm_job& job) {
  if (auto why = check_file(job.kernel, "kernel", true)) return why;
  if (auto why = check_file(job.scheduler, "scheduler", false)) return why;
  if (auto why = check_file(job.scenario_file, "scenario file", false)) return why;
  if (auto why = check_file(job.payload_program, "payload program", false)) return why;
  if (job.payload.empty() != job.payload_program.sha256.empty())
    return std::string("a payload needs its program, and a program its payload");
  if (!job.scenario.empty() && !job.scenario_file.sha256.empty())
    return std::string("a job names a built-in scenario and sends a scenario file");
  if (job.scheduler_args.size() + job.faults.size() + job.payload.size() > kMaxJobArgs)
    return fmt::format("more than {} arguments, faults and payload words", kMaxJobArgs);
  for (const auto* list : {&job.scheduler_args, &job.faults, &job.payload})
    for (const auto& s : *list)
      if (!plain_text(s)) return std::string("an argument holds a control character or is too long");
  for (const auto* s : {&job.name, &job.topology, &job.scenario})
    if (!plain_text(*s)) return std::string("a name holds a control character or is too long");
  if (job.topology.empty()) return std::string("the job has no topology");
  // Words that start with '-' would be read as run's options.
  for (const auto* s : {&job.topology, &job.scenario})
    if (!s->empty() && s->front() == '-') return std::string("a topology or scenario name starts with '-'");
  for (const auto& f : job.faults)
    if (!f.empty() && f.front() == '-') return std::string("a fault spec starts with '-'");
  return std::nullopt;
}

}  // namespace ktstr::cli
