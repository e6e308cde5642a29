#include "actors/watchdog.hpp"

#include "actors/unexpected.hpp"

namespace ktstr::actors {

watchdog_actor_t::behavior_type watchdog_actor(watchdog_actor_t::stateful_pointer<watchdog_state> self,
                                               WatchdogConfig config) {
  self->set_default_handler(log_unexpected);
  auto& s = self->state;
  s.config = std::move(config);
  s.clock.emplace(s.config);
  self->delayed_send(self, s.config.tick, msg::sample_atom::value);
  return {
      [=](msg::progress&) { self->state.clock->on_progress(std::chrono::steady_clock::now()); },
      [=](msg::frozen_for& f) {
        self->state.clock->on_frozen(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(f.seconds)));
      },
      [=](msg::sample_atom) {
        auto& st = self->state;
        const auto now = std::chrono::steady_clock::now();
        if (!st.soft_sent && st.clock->soft_due(now)) {
          st.soft_sent = true;
          self->send(st.config.vm, msg::soft_atom::value);
        }
        if (!st.hard_sent && st.clock->hard_due(now)) {
          st.hard_sent = true;
          self->send(st.config.vm, msg::hard_atom::value);
        }
        if (!st.stall_sent && st.clock->stall_due(now)) {
          st.stall_sent = true;
          self->send(st.config.vm, msg::stall{std::chrono::duration<double>(st.clock->silent(now)).count()});
        }
        if (!st.hard_sent && !st.stall_sent) self->delayed_send(self, st.config.tick, msg::sample_atom::value);
      },
  };
}

}  // namespace ktstr::actors
