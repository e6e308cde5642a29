#pragma once
// A typed actor sending to a dynamically typed one (a vcpu actor). CAF 0.17 lets a typed
// actor only anon_send() to those, and the vcpu answers a freeze to its sender: this
// keeps the typed actor as the sender.
#include <caf/actor.hpp>
#include <caf/message_id.hpp>

#include <utility>

namespace ktstr::actors {

template <class Self, class... Ts>
void send_dynamic(Self* self, const caf::actor& dest, Ts&&... xs) {
  if (dest) dest->eq_impl(caf::make_message_id(), self->ctrl(), self->context(), std::forward<Ts>(xs)...);
}

}  // namespace ktstr::actors
