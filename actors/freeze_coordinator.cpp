#include "actors/freeze_coordinator.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "actors/send_dynamic.hpp"
#include "actors/unexpected.hpp"

namespace ktstr::actors {

namespace {

using state_ptr = freeze_coordinator_actor_t::stateful_pointer<freeze_coordinator_state>;
using clock = std::chrono::steady_clock;

double seconds(clock::duration d) { return std::chrono::duration<double>(d).count(); }

bool skipped(const std::vector<uint32_t>& skip, uint32_t vcpu) {
  return std::find(skip.begin(), skip.end(), vcpu) != skip.end();
}

void begin(state_ptr self, msg::freeze_request request) {
  auto& s = self->state;
  auto& f = s.current.emplace();
  f.id = s.next_id++;
  f.trigger = std::move(request.trigger);
  f.began = clock::now();
  f.final = request.final;
  if (f.final) {
    s.finished = true;
    f.skip = std::move(request.skip);
  }
  for (uint32_t i = 0; i < s.config.vcpus.size(); ++i) {
    if (skipped(f.skip, i)) continue;
    ++f.expected;
    send_dynamic(self, s.config.vcpus[i], msg::freeze{f.id});
    if (s.config.kick) s.config.kick(i);  // a vCPU inside KVM_RUN sees its mailbox only after a kick
  }
  const auto deadline =
      request.deadline_ms > 0 ? std::chrono::milliseconds(request.deadline_ms) : s.config.deadline;
  self->delayed_send(self, deadline, msg::freeze_deadline{f.id});
}

void complete(state_ptr self, bool deadline_passed) {
  auto& s = self->state;
  auto& f = *s.current;
  const auto now = clock::now();
  msg::snapshot snap;
  snap.id = f.id;
  snap.trigger = f.trigger;
  snap.at_s = seconds(f.began - s.config.start);
  // The freeze latency ends with the last parked: holding the clock is not part of it.
  snap.latency_s = seconds((deadline_passed ? now : f.all_parked) - f.began);
  snap.partial = deadline_passed;
  for (uint32_t i = 0; i < s.config.vcpus.size(); ++i) {
    if (auto it = f.parked.find(i); it != f.parked.end()) snap.vcpus.push_back(it->second);
    else if (!skipped(f.skip, i)) snap.missing.push_back(i);
  }
  if (f.final) {
    // The guest is dead or hung and stops next: nobody is thawed, nothing more is frozen.
    snap.guest.unavailable = "not read: final freeze before the VM stops";
    snap.frozen_s = seconds(now - f.began);
    if (snap.partial)
      spdlog::warn("final freeze ({}): {} vCPU(s) did not park within the deadline", snap.trigger, snap.missing.size());
    if (s.config.final_listener) self->send(s.config.final_listener, std::move(snap));
    else self->send(s.config.observer, std::move(snap));
    s.current.reset();
    s.queued.clear();
    return;
  }
  // Before the thaw, while no vCPU runs: the runqueues cannot change under the read.
  if (deadline_passed) snap.guest.unavailable = "not read: the freeze was partial (some vCPUs kept running)";
  else if (s.config.read_guest_state) snap.guest = s.config.read_guest_state();
  else snap.guest.unavailable = "monitor off";
  if (f.clock_held && s.config.release_clock) s.config.release_clock();
  // Every vCPU gets the thaw, parked or not: one that parks late finds it next in its
  // mailbox (same sender, FIFO) and runs on instead of waiting forever.
  for (const auto& v : s.config.vcpus) send_dynamic(self, v, msg::thaw{f.id});
  snap.frozen_s = seconds(clock::now() - f.began);
  if (s.config.watchdog) self->send(s.config.watchdog, msg::frozen_for{snap.frozen_s});
  if (snap.partial)
    spdlog::warn("freeze {} ({}): {} vCPU(s) did not park within {} ms", snap.id, snap.trigger, snap.missing.size(),
                 s.config.deadline.count());
  self->send(s.config.observer, std::move(snap));
  s.current.reset();
  if (!s.queued.empty()) {
    auto next = std::move(s.queued.front());
    s.queued.pop_front();
    begin(self, std::move(next));
  }
}

}  // namespace

freeze_coordinator_actor_t::behavior_type freeze_coordinator_actor(
    freeze_coordinator_actor_t::stateful_pointer<freeze_coordinator_state> self, FreezeCoordinatorConfig config) {
  self->set_default_handler(log_unexpected);
  self->state.config = std::move(config);
  for (const auto& [at, trigger] : self->state.config.schedule)
    self->delayed_send(self, at, msg::freeze_request{trigger});
  return {
      [=](msg::freeze_request& r) {
        auto& s = self->state;
        if (s.config.vcpus.empty() || s.finished) return;
        if (!s.current) return begin(self, std::move(r));
        if (!r.final) return s.queued.push_back(std::move(r));
        // The VM is about to stop: the freeze in flight ends now (partial if some vCPU has
        // not parked), its thaw is followed at once by the final freeze.
        s.queued.clear();
        s.queued.push_back(std::move(r));
        complete(self, s.current->parked.size() < s.current->expected);
      },
      [=](msg::parked& p) {
        auto& s = self->state;
        // Late (after its freeze completed), foreign or duplicate: ignored.
        if (!s.current || p.freeze_id != s.current->id || p.vcpu >= s.config.vcpus.size()) return;
        auto& f = *s.current;
        if (!f.parked.emplace(p.vcpu, std::move(p)).second) return;
        if (f.parked.size() == f.expected) {
          f.all_parked = clock::now();
          if (s.config.hold_clock && !f.final) {
            s.config.hold_clock();
            f.clock_held = true;
          }
          complete(self, false);
        }
      },
      [=](msg::freeze_deadline& d) {
        auto& s = self->state;
        if (s.current && s.current->id == d.freeze_id) complete(self, true);
      },
  };
}

}  // namespace ktstr::actors
