// The typed interfaces refuse at compile time what an actor does not handle; these
// checks pin a few of those answers (the same check CAF's typed send() makes).
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include "actors/interfaces.hpp"

using namespace ktstr;

namespace {

template <class Handle, class... Message>
constexpr bool accepts = caf::response_type<caf::signatures_of_t<Handle>, Message...>::valid;

template <class Handle, class Reply, class... Message>
constexpr bool replies_with =
    std::is_same_v<typename caf::response_type<caf::signatures_of_t<Handle>, Message...>::type,
                   caf::detail::type_list<Reply>>;

// What typed_actor's converting constructor asserts: Wide handles every message of Narrow.
template <class Wide, class Narrow>
constexpr bool serves = caf::detail::tl_subset_of<caf::signatures_of_t<Narrow>, caf::signatures_of_t<Wide>>::value;

}  // namespace

TEST_CASE("interfaces: each actor takes its own messages and refuses the others' at compile time") {
  STATIC_REQUIRE(accepts<actors::vm_actor_t, msg::stall>);
  STATIC_REQUIRE(accepts<actors::vm_actor_t, msg::guest_stopped>);
  STATIC_REQUIRE_FALSE(accepts<actors::vm_actor_t, msg::thaw>);
  STATIC_REQUIRE_FALSE(accepts<actors::vm_actor_t, msg::soft_atom, double>);  // no tuples

  STATIC_REQUIRE(accepts<actors::freeze_coordinator_actor_t, msg::parked>);
  STATIC_REQUIRE_FALSE(accepts<actors::freeze_coordinator_actor_t, msg::freeze>);

  STATIC_REQUIRE(replies_with<actors::console_actor_t, msg::console_tail, msg::tail_atom>);
  STATIC_REQUIRE_FALSE(accepts<actors::console_actor_t, msg::agent_line>);

  STATIC_REQUIRE(replies_with<actors::perf_sampler_actor_t, msg::perf_report, msg::perf_report_atom>);
  STATIC_REQUIRE_FALSE(accepts<actors::watchdog_actor_t, msg::stall>);  // the watchdog sends it, the vm takes it
  STATIC_REQUIRE(accepts<actors::run_observer, msg::run_finished>);
  STATIC_REQUIRE_FALSE(accepts<actors::run_observer, msg::perf_sample>);
}

TEST_CASE("interfaces: the vm actor's handle serves every narrow interface its children hold") {
  STATIC_REQUIRE(serves<actors::vm_actor_t, actors::vcpu_supervisor>);
  STATIC_REQUIRE(serves<actors::vm_actor_t, actors::watchdog_listener>);
  STATIC_REQUIRE(serves<actors::vm_actor_t, actors::panic_listener>);
  STATIC_REQUIRE(serves<actors::watchdog_actor_t, actors::progress_listener>);
  STATIC_REQUIRE(serves<actors::watchdog_actor_t, actors::frozen_listener>);
  STATIC_REQUIRE(serves<actors::perf_sampler_actor_t, actors::vcpu_start_listener>);
  STATIC_REQUIRE_FALSE(serves<actors::panic_listener, actors::vm_actor_t>);
}
