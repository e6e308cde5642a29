#include "apps/cli/experiment/orchestrator.hpp"

#include <fmt/format.h>
#include <signal.h>

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

void start_runs(self_ptr self) {
  auto& s = self->state;
  while (!s.stopping && s.next < s.config.runs.size() && s.running.size() < s.config.jobs) {
    const auto& run = s.config.runs[s.next++];
    s.running[run.index] = 0;
    s.started_at[run.index] = clock::now();
    self->spawn<caf::detached>(vm_runner, run, s.config.launch, caf::actor_cast<caf::actor>(self));
  }
}

/// Every run not started yet ends as interrupted; running ones get SIGTERM, later SIGKILL.
void stop(self_ptr self) {
  auto& s = self->state;
  s.stopping = true;
  s.stop_began = clock::now();
  say(self, fmt::format("{} stopping: {} running run(s) get SIGTERM (SIGKILL after {} s), {} not started", counts(self),
                        s.running.size(), s.config.stop_grace.count(), s.config.runs.size() - s.next));
  for (const auto& [index, pid] : s.running)
    if (pid > 0) ::kill(pid, SIGTERM);
  while (s.next < s.config.runs.size()) {
    const auto& run = s.config.runs[s.next++];
    ++s.ended;
    if (s.config.on_end) s.config.on_end(run, msg::vm_run_ended{run.index, -1, 0, 0, {}}, true);
  }
}

void tick(self_ptr self) {
  auto& s = self->state;
  const auto now = clock::now();
  if (!s.stopping && s.config.stop && s.config.stop->load()) stop(self);
  if (s.stopping && !s.killed && now - s.stop_began > s.config.stop_grace) {
    s.killed = true;
    for (const auto& [index, pid] : s.running)
      if (pid > 0) ::kill(pid, SIGKILL);
  }
  if (!s.running.empty() && now - s.last_status >= s.config.status_every) {
    s.last_status = now;
    std::string line = counts(self);
    for (const auto& [index, pid] : s.running)
      line += fmt::format(" {} ({:.0f} s)", s.config.runs[index].name,
                          std::chrono::duration<double>(now - s.started_at[index]).count());
    say(self, line);
  }
  finish_if_done(self);
  self->delayed_send(self, s.config.tick, msg::orchestrate_atom::value);
}

}  // namespace

caf::behavior orchestrator(caf::stateful_actor<orchestrator_state>* self, OrchestratorConfig config) {
  auto& s = self->state;
  s.config = std::move(config);
  if (s.config.jobs == 0) s.config.jobs = 1;
  s.last_status = clock::now();
  start_runs(self);
  self->send(self, msg::orchestrate_atom::value);
  return {
      [=](msg::orchestrate_atom) { tick(self); },
      [=](const msg::vm_run_started& started) {
        auto& st = self->state;
        st.running[started.index] = started.pid;
        say(self, fmt::format("{} {}: started (pid {})", counts(self), st.config.runs[started.index].name, started.pid));
        if (st.stopping) ::kill(started.pid, SIGTERM);  // started while the stop went out
      },
      [=](const msg::vm_run_ended& ended) {
        auto& st = self->state;
        st.running.erase(ended.index);
        ++st.ended;
        if (st.config.on_end) st.config.on_end(st.config.runs[ended.index], ended, st.stopping);
        start_runs(self);
        finish_if_done(self);
      },
  };
}

}  // namespace ktstr::cli
