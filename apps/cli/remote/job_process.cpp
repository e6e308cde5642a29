#include "apps/cli/remote/job_process.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <vector>

#include "apps/cli/remote/job_limits.hpp"
#include "messages/worker.hpp"

namespace fs = std::filesystem;

namespace ktstr::cli {

namespace {

/// Every regular file under dir (no links followed), result.json first; error when past the bounds.
std::vector<std::pair<std::string, uint64_t>> result_files(const fs::path& dir, std::string& error) {
  std::vector<std::pair<std::string, uint64_t>> files;
  std::error_code ec;
  uint64_t total = 0;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    const std::string rel = fs::relative(it->path(), dir, ec).string();
    const uint64_t size = it->file_size(ec);
    if (ec || !valid_result_path(rel)) {
      error = fmt::format("result file \"{}\" not sent (not a plain relative name)", rel);
      continue;
    }
    if (files.size() >= kMaxResultFiles || total + size > kMaxResultBytes) {
      error = fmt::format("results cut at {} files / {} bytes", files.size(), total);
      break;
    }
    total += size;
    files.emplace_back(rel, size);
  }
  std::stable_sort(files.begin(), files.end(),
                   [](const auto& a, const auto& b) { return a.first == "result.json" && b.first != "result.json"; });
  return files;
}

void send_file(caf::blocking_actor* self, const caf::actor& client, uint64_t job_id, const fs::path& path,
               const std::string& rel) {
  std::ifstream in(path, std::ios::binary);
  uint64_t offset = 0;
  std::vector<char> buf(kChunkBytes);
  while (true) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<size_t>(in.gcount());
    msg::result_chunk c{job_id, rel, offset, std::vector<char>(buf.begin(), buf.begin() + static_cast<long>(n)), false};
    offset += n;
    c.last = n < buf.size() || !in;
    const bool last = c.last;
    self->send(client, std::move(c));
    if (last) break;
  }
}

}  // namespace

void job_process(caf::blocking_actor* self, JobProcess job) {
  const auto began = std::chrono::steady_clock::now();
  std::ofstream log(job.log, std::ios::trunc);
  std::string pending;
  char buf[4096];
  auto emit = [&](std::string line) {
    log << line << '\n';
    if (line.size() > kMaxOutputLine) line.resize(kMaxOutputLine);
    self->send(job.client, msg::job_output{job.job_id, std::move(line)});
  };
  while (true) {
    const ssize_t n = ::read(job.output_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      emit(pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
    if (pending.size() > kMaxOutputLine) {  // a line without end: send what there is
      emit(pending);
      pending.clear();
    }
  }
  if (!pending.empty()) emit(pending);
  ::close(job.output_fd);
  int status = 0;
  while (::waitpid(job.pid, &status, 0) < 0 && errno == EINTR) {
  }
  msg::job_done done;
  done.job_id = job.job_id;
  if (WIFEXITED(status)) done.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) done.signal = WTERMSIG(status);
  std::string error;
  for (const auto& [rel, size] : result_files(job.out_dir, error)) send_file(self, job.client, job.job_id, job.out_dir / rel, rel);
  done.error = error;
  done.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  self->send(job.client, done);
  self->send(job.worker, done);
}

}  // namespace ktstr::cli
