#include "actors/unexpected.hpp"

#include <caf/others.hpp>
#include <caf/sec.hpp>
#include <spdlog/spdlog.h>

#include <string>
#include <utility>

namespace ktstr::actors {

namespace {

void warn(std::string_view who, const caf::message_view& x) {
  spdlog::warn("{}: unexpected message {} dropped", who, x.content().stringify());
}

}  // namespace

caf::result<caf::message> log_unexpected(caf::scheduled_actor* self, caf::message_view& x) {
  warn(self->name(), x);
  return caf::sec::unexpected_message;
}

caf::catch_all<std::function<caf::result<caf::message>(caf::message_view&)>> unexpected_in(caf::local_actor* self,
                                                                                          std::string name) {
  return caf::others >> std::function<caf::result<caf::message>(caf::message_view&)>(
                            [self, name = std::move(name)](caf::message_view& x) -> caf::result<caf::message> {
                              warn(name, x);
                              if (self->current_message_id().is_request()) return caf::sec::unexpected_message;
                              return caf::message{};  // no answer
                            });
}

}  // namespace ktstr::actors
