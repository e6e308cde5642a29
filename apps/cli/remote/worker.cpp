#include "apps/cli/remote/worker.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "apps/cli/process/child_process.hpp"
#include "apps/cli/remote/job_argv.hpp"
#include "apps/cli/remote/job_limits.hpp"
#include "apps/cli/remote/job_process.hpp"
#include "messages/atoms.hpp"

namespace fs = std::filesystem;

namespace ktstr::cli {

namespace {

using self_ptr = caf::stateful_actor<worker_state>*;

std::string peer_of(self_ptr self) {
  const auto& sender = self->current_sender();
  if (!sender) return "an unknown peer";
  return fmt::format("client {}", to_string(sender->node()));
}

std::set<std::string> pinned(self_ptr self) {
  std::set<std::string> p;
  for (const auto& [id, j] : self->state.jobs)
    for (const auto* f : {&j.job.kernel, &j.job.scheduler, &j.job.scenario_file, &j.job.payload_program})
      if (!f->sha256.empty()) p.insert(f->sha256);
  return p;
}

/// Drops a job that has not started (its folder too); logs why.
void drop(self_ptr self, uint64_t id, const std::string& why) {
  auto it = self->state.jobs.find(id);
  if (it == self->state.jobs.end()) return;
  spdlog::warn("job {} ({}) dropped: {}", id, it->second.job.name, why);
  std::error_code ec;
  if (!it->second.dir.empty()) fs::remove_all(it->second.dir, ec);
  self->state.jobs.erase(it);
}

/// The job if it exists and the sender is its client.
WorkerJob* owned(self_ptr self, uint64_t id) {
  auto it = self->state.jobs.find(id);
  if (it == self->state.jobs.end()) return nullptr;
  if (caf::actor_cast<caf::actor_addr>(it->second.client) != self->current_sender()) return nullptr;
  return &it->second;
}

std::optional<std::string> next_upload(self_ptr self, uint64_t id, WorkerJob& j) {
  j.upload.reset();
  while (!j.missing.empty()) {
    uint64_t size = 0;
    for (const auto* f : {&j.job.kernel, &j.job.scheduler, &j.job.scenario_file, &j.job.payload_program})
      if (f->sha256 == j.missing.front()) size = f->size;
    if (self->state.cache->has(j.missing.front(), size)) {  // another job brought it meanwhile
      j.missing.erase(j.missing.begin());
      continue;
    }
    try {
      j.upload = self->state.cache->begin(j.missing.front(), size, id);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::nullopt;
  }
  return std::nullopt;
}

/// The job's view of a cached file: DIR/files/<role>/<name>, a hard link (a copy where links fail).
fs::path place(self_ptr self, const WorkerJob& j, const msg::job_file& f, const char* role) {
  if (f.sha256.empty()) return {};
  const fs::path dir = j.dir / "files" / role;
  fs::create_directories(dir);
  const fs::path to = dir / f.name;
  std::error_code ec;
  fs::create_hard_link(self->state.cache->path_of(f.sha256), to, ec);
  if (ec) fs::copy_file(self->state.cache->path_of(f.sha256), to, fs::copy_options::overwrite_existing);
  if (std::string(role) != "scenario") fs::permissions(to, fs::perms::owner_exec | fs::perms::owner_read, fs::perm_options::add);
  self->state.cache->touch(f.sha256);
  return to;
}

msg::job_started start(self_ptr self, uint64_t id, WorkerJob& j) {
  msg::job_started started{id, 0, {}};
  int pipefd[2] = {-1, -1};
  try {
    JobPaths paths;
    paths.kernel = place(self, j, j.job.kernel, "kernel");
    paths.scheduler = place(self, j, j.job.scheduler, "scheduler");
    paths.scenario_file = place(self, j, j.job.scenario_file, "scenario");
    paths.payload_program = place(self, j, j.job.payload_program, "payload");
    paths.out_dir = j.dir / "out";
    fs::create_directories(paths.out_dir);
    const auto argv = job_run_argv(j.job, paths, self->state.config.program, self->state.config.host);
    if (::pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("cannot make a pipe");
    const pid_t pid = spawn_process(self->state.config.program, argv, {{1, pipefd[1]}, {2, pipefd[1]}});
    ::close(pipefd[1]);
    j.pid = pid;
    JobProcess p{id, pid, pipefd[0], paths.out_dir, j.dir / "run.log", j.client, caf::actor_cast<caf::actor>(self)};
    j.process = self->spawn<caf::detached>(job_process, std::move(p)).address();
    started.pid = pid;
    ++self->state.jobs_run;
    spdlog::info("job {} ({}) started for {}: pid {}", id, j.job.name, to_string(j.client.node()), pid);
  } catch (const std::exception& e) {
    if (pipefd[0] >= 0) ::close(pipefd[0]);
    if (pipefd[1] >= 0) ::close(pipefd[1]);
    started.error = e.what();
  }
  return started;
}

}  // namespace

caf::behavior worker_actor(caf::stateful_actor<worker_state>* self, WorkerConfig config) {
  auto& s = self->state;
  s.config = std::move(config);
  s.cache = std::make_unique<FileCache>(s.config.cache_dir, s.config.cache_bytes);
  fs::create_directories(s.config.jobs_dir);
  self->set_down_handler([=](const caf::down_msg& down) {
    // A client gone (or cut off): its jobs can report to no one. Stop them.
    std::vector<uint64_t> gone;
    for (auto& [id, j] : self->state.jobs)
      if (caf::actor_cast<caf::actor_addr>(j.client) == down.source) gone.push_back(id);
    if (gone.empty()) return;
    spdlog::warn("client {} went away ({}): stopping its {} job(s)", to_string(down.source.node()),
                 self->system().render(down.reason), gone.size());
    for (auto id : gone) {
      auto& j = self->state.jobs[id];
      if (j.pid > 0) {
        ::kill(j.pid, SIGTERM);
        self->delayed_send(self, self->state.config.stop_grace, msg::stop_atom::value, id, true);
      } else {
        drop(self, id, "its client went away");
      }
    }
  });
  return {
      [=](const msg::worker_hello& hello) {
        auto& st = self->state;
        spdlog::info("hello from {} ({})", peer_of(self), hello.client.substr(0, 128));
        msg::worker_info info{msg::worker_protocol, st.config.host_name, st.config.slots,
                              static_cast<uint32_t>(st.jobs.size()), st.config.refuses};
        if (hello.protocol != msg::worker_protocol)
          info.refuses = fmt::format("protocol {} here, {} there", msg::worker_protocol, hello.protocol);
        return info;
      },
      [=](msg::job_offer& offer) {
        auto& st = self->state;
        msg::job_accepted a;
        if (!st.config.refuses.empty()) a.refused = st.config.refuses;
        else if (st.jobs.size() >= st.config.slots)
          a.refused = fmt::format("full: {} of {} slots busy", st.jobs.size(), st.config.slots);
        else if (auto why = check_job(offer.job)) a.refused = "a malformed job: " + *why;
        if (!a.refused.empty()) {
          spdlog::warn("refused a job from {}: {}", peer_of(self), a.refused);
          return a;
        }
        const uint64_t id = st.next_id++;
        WorkerJob j;
        j.job = std::move(offer.job);
        j.client = caf::actor_cast<caf::actor>(self->current_sender());
        j.dir = st.config.jobs_dir / std::to_string(id);
        for (const auto* f : {&j.job.kernel, &j.job.scheduler, &j.job.scenario_file, &j.job.payload_program})
          if (!f->sha256.empty() && !st.cache->has(f->sha256, f->size) &&
              std::find(j.missing.begin(), j.missing.end(), f->sha256) == j.missing.end())
            j.missing.push_back(f->sha256);
        a.job_id = id;
        a.missing = j.missing;
        self->monitor(j.client);
        auto& placed = st.jobs[id] = std::move(j);
        if (auto why = next_upload(self, id, placed)) {
          a.refused = *why;
          drop(self, id, *why);
          return a;
        }
        spdlog::info("job {} ({}) accepted from {}: {} file(s) to receive", id, placed.job.name, peer_of(self),
                     a.missing.size());
        self->delayed_send(self, st.config.start_within, msg::stop_atom::value, id, false);
        return a;
      },
      [=](msg::file_chunk& c) {
        msg::chunk_ack ack{c.job_id, 0, false, {}};
        auto* j = owned(self, c.job_id);
        if (!j) {
          ack.error = "no such job of yours";
          return ack;
        }
        const bool needed = std::find(j->missing.begin(), j->missing.end(), c.sha256) != j->missing.end();
        if (!needed && (c.sha256 == j->job.kernel.sha256 || c.sha256 == j->job.scheduler.sha256 ||
                        c.sha256 == j->job.scenario_file.sha256 || c.sha256 == j->job.payload_program.sha256)) {
          ack.complete = true;  // here already (another job brought it meanwhile): stop sending it
          return ack;
        }
        if (!j->upload || j->missing.empty() || c.sha256 != j->missing.front()) {
          ack.error = "a piece of a file this job does not wait for";
        } else if (auto why = j->upload->append(c.offset, c.data.data(), c.data.size())) {
          ack.error = *why;
        } else {
          ack.received = j->upload->received();
          if (j->upload->complete()) {
            if (auto bad = j->upload->finish()) {
              ack.error = *bad;
            } else {
              ack.complete = true;
              j->missing.erase(j->missing.begin());
              if (auto why = next_upload(self, c.job_id, *j)) ack.error = *why;
              self->state.cache->evict(pinned(self));
            }
          }
        }
        if (!ack.error.empty()) drop(self, c.job_id, "from " + peer_of(self) + ": " + ack.error);
        return ack;
      },
      [=](const msg::job_start& go) {
        auto* j = owned(self, go.job_id);
        if (!j) return msg::job_started{go.job_id, 0, "no such job of yours"};
        if (j->pid > 0) return msg::job_started{go.job_id, j->pid, {}};
        if (!j->missing.empty())
          return msg::job_started{go.job_id, 0, fmt::format("{} file(s) still missing", j->missing.size())};
        auto started = start(self, go.job_id, *j);
        if (!started.error.empty()) drop(self, go.job_id, started.error);
        return started;
      },
      [=](const msg::job_cancel& cancel) {
        auto* j = owned(self, cancel.job_id);
        if (!j) return;
        if (j->pid <= 0) {
          drop(self, cancel.job_id, "cancelled by its client before it started");
          return;
        }
        spdlog::info("job {} ({}): cancelled by its client, SIGTERM to pid {}", cancel.job_id, j->job.name, j->pid);
        ::kill(j->pid, SIGTERM);
        self->delayed_send(self, self->state.config.stop_grace, msg::stop_atom::value, cancel.job_id, true);
      },
      [=](msg::stop_atom, uint64_t id, bool kill) {
        // Our own timers: a job never started in time, or a stopped run past its grace.
        if (self->current_sender() != self->address()) return;
        auto it = self->state.jobs.find(id);
        if (it == self->state.jobs.end()) return;
        if (!kill && it->second.pid <= 0) drop(self, id, "not started in time");
        if (kill && it->second.pid > 0) ::kill(it->second.pid, SIGKILL);
      },
      [=](const msg::job_done& done) {
        // From our own job_process: the run ended and its results went to the client.
        auto it = self->state.jobs.find(done.job_id);
        if (it == self->state.jobs.end() || it->second.process != self->current_sender()) return;
        spdlog::info("job {} ({}) ended: exit {} signal {} after {:.1f} s{}", done.job_id, it->second.job.name,
                     done.exit_code, done.signal, done.elapsed_s, done.error.empty() ? "" : "; " + done.error);
        std::error_code ec;
        fs::remove_all(it->second.dir, ec);
        self->state.jobs.erase(it);
      },
  };
}

}  // namespace ktstr::cli
