#include <catch2/catch.hpp>

#include <caf/all.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/scheduler/coordinator.hpp>
#include <unistd.h>

#include <cstdlib>

#include "actors/runtime_config.hpp"
#include "messages/messages.hpp"

using namespace ktstr;

TEST_CASE("runtime config: the actor system runs on the work-sharing scheduler with 2 workers", "[runtime]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{actors::configure_runtime(cfg)};
  auto* sharing = dynamic_cast<caf::scheduler::coordinator<caf::policy::work_sharing>*>(&sys.scheduler());
  REQUIRE(sharing != nullptr);
  CHECK(sharing->num_workers() == 2);

  // Our message types are registered: a typed message round-trips through an actor.
  auto echo = sys.spawn([]() -> caf::behavior { return {[](msg::thaw t) { return t; }}; });
  caf::scoped_actor self{sys};
  self->request(echo, std::chrono::seconds(5), msg::thaw{42})
      .receive([](msg::thaw t) { CHECK(t.freeze_id == 42); }, [](caf::error& e) { FAIL(caf::to_string(e)); });
}

TEST_CASE("runtime config: a freed heap block stays mapped (no munmap while vCPUs run)", "[runtime]") {
  actors::keep_heap_mapped();
  // 8 MiB is far above glibc's default mmap threshold (128 KiB): without the settings the
  // block is mmap'd and its free is a munmap; with them it comes from the main heap and
  // the heap's top is not trimmed.
  void* before = ::sbrk(0);
  void* block = std::malloc(8 << 20);
  REQUIRE(block != nullptr);
  static_cast<volatile char*>(block)[0] = 1;
  void* grown = ::sbrk(0);
  std::free(block);
  void* after = ::sbrk(0);
  CHECK(grown >= before);
  CHECK(after == grown);  // not trimmed
  CHECK(static_cast<char*>(block) + (8 << 20) <= static_cast<char*>(grown));  // inside the heap, not a far mmap
}
