#include "apps/cli/remote/remote_runner.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <memory>
#include <unistd.h>

#include "apps/cli/remote/job_limits.hpp"
#include "messages/atoms.hpp"
#include "messages/experiment.hpp"

namespace fs = std::filesystem;

namespace ktstr::cli {

namespace {

/// The result files arriving: each under out_dir, its name checked, in order, bounded.
class ResultWriter {
 public:
  explicit ResultWriter(fs::path dir) : dir_(std::move(dir)) {}

  /// Error: one line (the rest of the results are then ignored).
  std::optional<std::string> add(const msg::result_chunk& c) {
    if (!valid_result_path(c.path)) return fmt::format("a result file named \"{}\"", c.path.substr(0, 80));
    if (c.data.size() > kChunkBytes) return fmt::format("a result piece of {} bytes", c.data.size());
    total_ += c.data.size();
    if (total_ > kMaxResultBytes) return fmt::format("results past {} bytes", kMaxResultBytes);
    auto& f = open_[c.path];
    if (!f.out) {
      if (c.offset != 0 || ++files_ > kMaxResultFiles) return fmt::format("result file \"{}\" out of order", c.path);
      const fs::path to = dir_ / c.path;
      std::error_code ec;
      fs::create_directories(to.parent_path(), ec);
      fs::remove(to, ec);  // never write through a link left there
      f.out = std::make_unique<std::ofstream>(to, std::ios::binary | std::ios::trunc);
      if (!*f.out) return "cannot write " + to.string();
    }
    if (c.offset != f.written) return fmt::format("result file \"{}\" out of order", c.path);
    f.out->write(c.data.data(), static_cast<std::streamsize>(c.data.size()));
    f.written += c.data.size();
    if (c.last) open_.erase(c.path);
    return std::nullopt;
  }

 private:
  struct Open {
    std::unique_ptr<std::ofstream> out;
    uint64_t written = 0;
  };
  fs::path dir_;
  std::map<std::string, Open> open_;
  uint64_t total_ = 0;
  size_t files_ = 0;
};

}  // namespace

void remote_runner(caf::blocking_actor* self, RemoteRun run, caf::actor orchestrator) {
  const auto began = std::chrono::steady_clock::now();
  msg::vm_run_ended ended;
  ended.index = run.index;
  ended.where = run.where;
  auto finish = [&](std::string error, bool lost) {
    ended.error = std::move(error);
    ended.lost = lost;
    ended.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    self->send(orchestrator, ended);
  };
  bool cancelled = false;
  std::error_code ec;
  fs::create_directories(run.out_dir, ec);
  self->monitor(run.worker);

  // 1. The offer.
  msg::job_accepted accepted;
  std::string failure;
  self->request(run.worker, std::chrono::seconds(60), msg::job_offer{run.job})
      .receive([&](msg::job_accepted& a) { accepted = std::move(a); },
               [&](caf::error& e) { failure = self->system().render(e); });
  if (!failure.empty()) {
    ended.worker_gone = true;
    return finish(fmt::format("{}: no answer to the job offer ({})", run.where, failure), true);
  }
  if (!accepted.refused.empty()) return finish(fmt::format("{} refused the job: {}", run.where, accepted.refused), true);
  const uint64_t id = accepted.job_id;

  // 2. The files it lacks, one acknowledged piece at a time.
  for (const auto& sha : accepted.missing) {
    auto local = run.files.find(sha);
    if (local == run.files.end())
      return finish(fmt::format("{} asked for a file this job does not have ({})", run.where, sha.substr(0, 12)), true);
    std::ifstream in(local->second, std::ios::binary);
    if (!in) return finish("cannot read " + local->second.string(), true);
    uint64_t offset = 0;
    bool complete = false;
    std::vector<char> buf(kChunkBytes);
    while (!complete) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      const auto n = static_cast<size_t>(in.gcount());
      if (n == 0) return finish(fmt::format("{} did not confirm {} after {} bytes", run.where, local->second.string(), offset), true);
      msg::chunk_ack ack;
      self->request(run.worker, std::chrono::seconds(120),
                    msg::file_chunk{id, sha, offset, std::vector<char>(buf.begin(), buf.begin() + static_cast<long>(n))})
          .receive([&](msg::chunk_ack& a) { ack = std::move(a); },
                   [&](caf::error& e) { failure = self->system().render(e); });
      if (!failure.empty()) {
        ended.worker_gone = true;
        return finish(fmt::format("{} went away while receiving files ({})", run.where, failure), true);
      }
      if (!ack.error.empty()) return finish(fmt::format("{} refused {}: {}", run.where, local->second.string(), ack.error), true);
      offset += n;
      complete = ack.complete;
    }
  }

  // 3. Start; from here on the worker streams to us.
  msg::job_started started;
  self->request(run.worker, std::chrono::seconds(60), msg::job_start{id})
      .receive([&](msg::job_started& s) { started = std::move(s); },
               [&](caf::error& e) { failure = self->system().render(e); });
  if (!failure.empty()) {
    ended.worker_gone = true;
    return finish(fmt::format("{}: no answer to the start ({})", run.where, failure), true);
  }
  if (!started.error.empty()) return finish(fmt::format("{} could not start the run: {}", run.where, started.error), true);
  self->send(orchestrator, msg::vm_run_started{run.index, 0, run.where});

  std::ofstream log(run.out_dir / "run.log", std::ios::trunc);
  ResultWriter results(run.out_dir);
  std::string result_error;
  bool done = false;
  self->receive_while([&] { return !done; })(
      [&](msg::job_output& o) {
        if (o.job_id != id) return;
        if (o.line.size() > kMaxOutputLine) o.line.resize(kMaxOutputLine);
        log << o.line << '\n' << std::flush;
      },
      [&](const msg::result_chunk& c) {
        if (c.job_id != id || !result_error.empty()) return;
        if (auto why = results.add(c)) result_error = *why;
      },
      [&](const msg::job_done& d) {
        if (d.job_id != id) return;
        done = true;
        ended.exit_code = d.exit_code;
        ended.signal = d.signal;
        // A run that ended with its results cut or refused still ended: the note goes to its log.
        for (const auto& note : {d.error, result_error.empty() ? "" : "results refused here: " + result_error})
          if (!note.empty()) {
            log << "ktstr-actors: " << run.where << ": " << note << '\n';
            spdlog::warn("{} on {}: {}", run.job.name, run.where, note);
          }
        finish("", false);
      },
      [&](msg::stop_atom) {
        if (cancelled) return;
        cancelled = true;
        self->send(run.worker, msg::job_cancel{id});
      },
      [&](const caf::down_msg& down) {
        if (down.source != run.worker.address()) return;
        done = true;
        ended.worker_gone = true;
        finish(fmt::format("{} went away mid-run ({})", run.where, self->system().render(down.reason)), true);
      },
      caf::after(run.silence) >> [&] {
        done = true;
        ended.worker_gone = true;
        self->send(run.worker, msg::job_cancel{id});
        finish(fmt::format("{} sent nothing for {} s", run.where, run.silence.count()), true);
      });
}

}  // namespace ktstr::cli
