#pragma once
// A message no handler matches is a bug at the sender: it is logged (spdlog warn) and
// dropped, never left in a mailbox where nobody would see it.
#include <caf/catch_all.hpp>
#include <caf/message_view.hpp>
#include <caf/result.hpp>
#include <caf/scheduled_actor.hpp>

#include <functional>
#include <string>

namespace ktstr::actors {

/// Logs and drops an unmatched message; the sender of a request gets unexpected_message.
/// Install in every event-based actor with self->set_default_handler(log_unexpected);
/// a typed actor can still get one through an unchecked handle (actor_cast).
caf::result<caf::message> log_unexpected(caf::scheduled_actor* self, caf::message_view& x);

/// The same for a blocking actor's receive: add `unexpected_in(self, "vcpu 0")` as its
/// catch-all (blocking receives would otherwise skip the message and keep it queued).
/// Only a request is answered (with unexpected_message): a blocking actor sends any
/// other result back to the sender as a message of its own.
caf::catch_all<std::function<caf::result<caf::message>(caf::message_view&)>> unexpected_in(caf::local_actor* self,
                                                                                          std::string name);

}  // namespace ktstr::actors
