#include "actors/watchdog.hpp"

#include "messages/messages.hpp"

namespace ktstr::actors {

caf::behavior watchdog_actor(caf::stateful_actor<watchdog_state>* self, WatchdogConfig config) {
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
          self->send(st.config.vm, msg::stall_atom::value,
                     std::chrono::duration<double>(st.clock->silent(now)).count());
        }
        if (!st.hard_sent && !st.stall_sent) self->delayed_send(self, st.config.tick, msg::sample_atom::value);
      },
  };
}

}  // namespace ktstr::actors
