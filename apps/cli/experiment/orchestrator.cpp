#include "apps/cli/experiment/orchestrator.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>

namespace ktstr::cli {

namespace {

using self_ptr = caf::stateful_actor<orchestrator_state>*;
using clock = std::chrono::steady_clock;

void say(self_ptr self, const std::string& line) {
  if (self->state.config.progress) *self->state.config.progress << line << std::endl;
}

std::string counts(self_ptr self) {
  const auto& s = self->state;
  return fmt::format("[{}/{} done, {} running]", s.ended, s.config.runs.size(), s.running.size());
}

void finish_if_done(self_ptr self) {
  auto& s = self->state;
  if (s.ended < s.config.runs.size()) return;
  if (s.config.listener) self->send(s.config.listener, msg::experiment_finished{s.stopping});
  self->quit();
}

void end_run(self_ptr self, const VmRun& run, const msg::vm_run_ended& ended, bool interrupted) {
  auto& s = self->state;
  ++s.ended;
  if (s.config.on_end) s.config.on_end(run, ended, interrupted, s.attempts[run.index]);
}

bool tried_on(self_ptr self, size_t index, int worker) {
  const auto& lost = self->state.lost_on[index];
  return std::find(lost.begin(), lost.end(), worker) != lost.end();
}

/// A live worker with a free slot this run was not lost on, the least busy first; -1: none.
int free_worker(self_ptr self, size_t index) {
  auto& s = self->state;
  int best = -1;
  for (size_t w = 0; w < s.config.workers.size(); ++w) {
    if (!s.worker_alive[w] || s.worker_busy[w] >= s.config.workers[w].slots || tried_on(self, index, static_cast<int>(w)))
      continue;
    if (best < 0 || s.worker_busy[w] * s.config.workers[best].slots < s.worker_busy[best] * s.config.workers[w].slots)
      best = static_cast<int>(w);
  }
  return best;
}

/// Somewhere this run could still go, now or later.
bool has_place(self_ptr self, size_t index) {
  auto& s = self->state;
  if (s.config.jobs > 0) return true;
  for (size_t w = 0; w < s.config.workers.size(); ++w)
    if (s.worker_alive[w] && !tried_on(self, index, static_cast<int>(w))) return true;
  return false;
}

void start_runs(self_ptr self) {
  auto& s = self->state;
  for (auto it = s.pending.begin(); !s.stopping && it != s.pending.end();) {
    const auto& run = s.config.runs[*it];
    RunningRun r;
    r.started_at = clock::now();
    if (s.local_busy < s.config.jobs) {
      ++s.local_busy;
      ++s.attempts[run.index];
      s.running[run.index] = r;
      self->spawn<caf::detached>(vm_runner, run, s.config.launch, caf::actor_cast<caf::actor>(self));
      it = s.pending.erase(it);
      continue;
    }
    const int w = free_worker(self, run.index);
    if (w < 0) {
      if (!has_place(self, run.index)) {
        msg::vm_run_ended lost{run.index, -1, 0, 0, "no worker left to run it", "", true};
        if (!s.lost_on[run.index].empty()) lost.error = "lost on every worker it was sent to";
        say(self, fmt::format("{} {}: lost ({})", counts(self), run.name, lost.error));
        it = s.pending.erase(it);
        end_run(self, run, lost, false);
        continue;
      }
      ++it;
      continue;
    }
    std::string why;
    auto job = s.config.remote_job ? s.config.remote_job(run, why) : std::nullopt;
    if (!job) {
      // It cannot go remote; a local slot may take it later.
      if (s.config.jobs > 0) {
        ++it;
        continue;
      }
      it = s.pending.erase(it);
      ++s.attempts[run.index];
      end_run(self, run, msg::vm_run_ended{run.index, -1, 0, 0, "cannot run remotely: " + why, "", false}, false);
      continue;
    }
    job->where = s.config.workers[w].where;
    job->worker = s.config.workers[w].worker;
    ++s.worker_busy[w];
    ++s.attempts[run.index];
    r.worker = w;
    r.runner = self->spawn<caf::detached>(remote_runner, std::move(*job), caf::actor_cast<caf::actor>(self));
    s.running[run.index] = r;
    say(self, fmt::format("{} {}: sent to {}", counts(self), run.name, s.config.workers[w].where));
    it = s.pending.erase(it);
  }
}

/// Every run not started yet ends as interrupted; running ones get SIGTERM (local) or a cancel.
void stop(self_ptr self) {
  auto& s = self->state;
  s.stopping = true;
  s.stop_began = clock::now();
  say(self, fmt::format("{} stopping: {} running run(s) get SIGTERM or a cancel (SIGKILL after {} s), {} not started",
                        counts(self), s.running.size(), s.config.stop_grace.count(), s.pending.size()));
  for (const auto& [index, r] : s.running) {
    if (r.pid > 0) ::kill(r.pid, SIGTERM);
    if (r.runner) self->send(r.runner, msg::stop_atom::value);
  }
  while (!s.pending.empty()) {
    const auto& run = s.config.runs[s.pending.front()];
    s.pending.pop_front();
    end_run(self, run, msg::vm_run_ended{run.index, -1, 0, 0, {}, "", false}, true);
  }
}

void tick(self_ptr self) {
  auto& s = self->state;
  const auto now = clock::now();
  if (!s.stopping && s.config.stop && s.config.stop->load()) stop(self);
  if (s.stopping && !s.killed && now - s.stop_began > s.config.stop_grace) {
    s.killed = true;
    for (const auto& [index, r] : s.running)
      if (r.pid > 0) ::kill(r.pid, SIGKILL);
  }
  if (!s.running.empty() && now - s.last_status >= s.config.status_every) {
    s.last_status = now;
    std::string line = counts(self);
    for (const auto& [index, r] : s.running)
      line += fmt::format(" {} ({:.0f} s{})", s.config.runs[index].name,
                          std::chrono::duration<double>(now - r.started_at).count(),
                          r.worker >= 0 ? " on " + s.config.workers[r.worker].where : "");
    say(self, line);
  }
  start_runs(self);  // a worker lost meanwhile may leave runs with nowhere to go
  finish_if_done(self);
  self->delayed_send(self, s.config.tick, msg::orchestrate_atom::value);
}

}  // namespace

caf::behavior orchestrator(caf::stateful_actor<orchestrator_state>* self, OrchestratorConfig config) {
  auto& s = self->state;
  s.config = std::move(config);
  if (s.config.jobs == 0 && s.config.workers.empty()) s.config.jobs = 1;
  s.worker_busy.assign(s.config.workers.size(), 0);
  s.worker_alive.assign(s.config.workers.size(), true);
  for (const auto& w : s.config.workers) self->monitor(w.worker);
  for (size_t i = 0; i < s.config.runs.size(); ++i) s.pending.push_back(i);
  s.last_status = clock::now();
  self->set_down_handler([=](const caf::down_msg& down) {
    auto& st = self->state;
    for (size_t w = 0; w < st.config.workers.size(); ++w)
      if (st.worker_alive[w] && st.config.workers[w].worker.address() == down.source) {
        st.worker_alive[w] = false;
        say(self, fmt::format("{} {} went away ({}): nothing more goes there", counts(self), st.config.workers[w].where,
                              self->system().render(down.reason)));
      }
  });
  start_runs(self);
  self->send(self, msg::orchestrate_atom::value);
  return {
      [=](msg::orchestrate_atom) { tick(self); },
      [=](const msg::vm_run_started& started) {
        auto& st = self->state;
        st.running[started.index].pid = started.pid;
        say(self, fmt::format("{} {}: started ({})", counts(self), st.config.runs[started.index].name,
                              started.pid > 0 ? fmt::format("pid {}", started.pid) : started.where));
        if (st.stopping && started.pid > 0) ::kill(started.pid, SIGTERM);  // started while the stop went out
        if (st.stopping && st.running[started.index].runner) self->send(st.running[started.index].runner, msg::stop_atom::value);
      },
      [=](const msg::vm_run_ended& ended) {
        auto& st = self->state;
        const auto& run = st.config.runs[ended.index];
        const auto r = st.running[ended.index];
        st.running.erase(ended.index);
        if (r.worker >= 0) --st.worker_busy[r.worker];
        else if (st.local_busy > 0) --st.local_busy;
        if (ended.lost && r.worker >= 0) st.lost_on[ended.index].push_back(r.worker);
        if (ended.worker_gone && r.worker >= 0 && st.worker_alive[r.worker]) {
          st.worker_alive[r.worker] = false;  // before its down message: nothing more goes there
          say(self, fmt::format("{} {}: nothing more goes there", counts(self), st.config.workers[r.worker].where));
        }
        if (ended.lost && !st.stopping && st.attempts[ended.index] <= st.config.retry && has_place(self, ended.index)) {
          say(self, fmt::format("{} {}: lost ({}); running it again (attempt {} of {})", counts(self), run.name,
                                ended.error, st.attempts[ended.index] + 1, st.config.retry + 1));
          st.pending.push_front(ended.index);
        } else {
          end_run(self, run, ended, st.stopping);
        }
        start_runs(self);
        finish_if_done(self);
      },
  };
}

}  // namespace ktstr::cli
