#include <catch2/catch.hpp>

#include "tests/support/message_round_trip.hpp"

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/scheduler/coordinator.hpp>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "actors/runtime_config.hpp"
#include "messages/messages.hpp"

using namespace ktstr;

TEST_CASE("runtime config: the actor system runs on the work-sharing scheduler with 2 workers", "[runtime]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{actors::configure_runtime(cfg)};
  auto* sharing = dynamic_cast<caf::scheduler::coordinator<caf::policy::work_sharing>*>(&sys.scheduler());
  REQUIRE(sharing != nullptr);
  CHECK(sharing->num_workers() == 2);
}

namespace {

// Every entry of the type-ID block, by the name the block gives it.
template <long... Is>
std::vector<std::string> unknown_to(const caf::actor_system& sys, caf::detail::int_list<Is...>) {
  std::vector<std::string> unknown;
  for (const char* name : {caf::type_name_by_id<static_cast<caf::type_id_t>(Is)>::value...})
    if (!sys.types().make_value(std::string(name))) unknown.emplace_back(name);
  return unknown;
}

using test::round_trip;

}  // namespace

// Local messages never need the registration (an echo through an actor passed with it
// removed), so only what needs it shows it missing: the system's type table and
// serialization (what messages between hosts will use). CAF 0.17's serializer only logs
// an unregistered type, so the round trip checks what came back.
TEST_CASE("runtime config: every type of the message block is registered and survives serialization", "[runtime]") {
  caf::actor_system_config cfg;
  caf::actor_system sys{actors::configure_runtime(cfg)};
  using block = caf::id_block::ktstr;
  CHECK(block::end - block::begin == 54);  // one per message struct in messages/*.hpp
  CHECK(unknown_to(sys, typename caf::detail::il_range<block::begin, block::end>::type{}).empty());

  msg::run_finished fin;
  fin.how = msg::run_end::hang;
  fin.detail = "silent";
  fin.stuck_vcpus = {1};
  fin.perf = msg::perf_report{100, {msg::perf_vcpu_timeline{}}};
  fin.perf->vcpus[0].samples.push_back({0.5, 0, {{"task-clock", 7}}});
  auto out = round_trip(sys, caf::make_message(msg::thaw{42}, fin, msg::guest_stopped{2, msg::guest_stop::reset, "x"}));
  REQUIRE(out.match_elements<msg::thaw, msg::run_finished, msg::guest_stopped>());
  CHECK(out.get_as<msg::thaw>(0).freeze_id == 42);
  const auto& back = out.get_as<msg::run_finished>(1);
  CHECK(back.how == msg::run_end::hang);
  CHECK(back.stuck_vcpus == std::vector<uint32_t>{1});
  REQUIRE(back.perf.has_value());
  CHECK(back.perf->period_ms == 100);
  REQUIRE(back.perf->vcpus.at(0).samples.size() == 1);
  CHECK(back.perf->vcpus[0].samples[0].counters.at(0).value == 7);
  CHECK(out.get_as<msg::guest_stopped>(2).how == msg::guest_stop::reset);

  // The fault messages (vm actor, vCPUs, monitor).
  msg::fault_outcome written;
  written.index = 3;
  written.accepted = true;
  written.old_value = 7500;
  written.new_value = 1;
  auto faults = round_trip(sys, caf::make_message(written, msg::guest_write{3, 0xffffffff833ca838ull, 8, 1},
                                                  msg::drop_kicks{1, 20}, msg::fault_step{2, true, 7}));
  REQUIRE(faults.match_elements<msg::fault_outcome, msg::guest_write, msg::drop_kicks, msg::fault_step>());
  CHECK(faults.get_as<msg::fault_outcome>(0).old_value == 7500);
  CHECK(faults.get_as<msg::fault_outcome>(0).accepted);
  CHECK(faults.get_as<msg::guest_write>(1).link_address == 0xffffffff833ca838ull);
  CHECK(faults.get_as<msg::drop_kicks>(2).count == 20);
  CHECK(faults.get_as<msg::fault_step>(3).cycle == 7);

  // The watchpoint messages (between vCPUs and the monitor).
  auto hw = round_trip(sys, caf::make_message(msg::watchpoint_hit{2, 1, 0xffffffff82000010ull, 0xffffffff81000abcull, 0x4, 1.5},
                                              msg::guest_debug_result{1, 2, false, "refused"},
                                              msg::disarm_watchpoint{3}));
  REQUIRE(hw.match_elements<msg::watchpoint_hit, msg::guest_debug_result, msg::disarm_watchpoint>());
  CHECK(hw.get_as<msg::watchpoint_hit>(0).rip == 0xffffffff81000abcull);
  CHECK(hw.get_as<msg::guest_debug_result>(1).error == "refused");
  CHECK(hw.get_as<msg::disarm_watchpoint>(2).slot == 3);

  // The worker protocol (messages/worker.hpp): what crosses hosts between experiments and workers.
  msg::vm_job job;
  job.name = "simple.2";
  job.kernel = {std::string(64, 'a'), 123456, "bzImage"};
  job.scheduler_args = {"-v"};
  job.payload = {"hackbench", "-g", "2"};
  msg::result_chunk piece{7, "dumps/freeze-1.json", 1 << 20, std::vector<char>{'{', '\0', '}'}, true};
  auto worker = round_trip(sys, caf::make_message(msg::job_offer{job}, piece, msg::job_done{7, 1, 0, 2.5, "cut"},
                                                  msg::vm_run_ended{3, -1, 0, 1.5, "gone", "worker h:1", true, true}));
  REQUIRE((worker.match_elements<msg::job_offer, msg::result_chunk, msg::job_done, msg::vm_run_ended>()));
  CHECK(worker.get_as<msg::job_offer>(0).job.kernel.size == 123456);
  CHECK(worker.get_as<msg::job_offer>(0).job.payload == job.payload);
  CHECK(worker.get_as<msg::result_chunk>(1).data == piece.data);
  CHECK(worker.get_as<msg::result_chunk>(1).last);
  CHECK(worker.get_as<msg::job_done>(2).error == "cut");
  CHECK(worker.get_as<msg::vm_run_ended>(3).where == "worker h:1");
  CHECK(worker.get_as<msg::vm_run_ended>(3).worker_gone);

  fin.perf.reset();  // an absent report stays absent
  auto absent = round_trip(sys, caf::make_message(fin));
  REQUIRE(absent.match_elements<msg::run_finished>());
  CHECK_FALSE(absent.get_as<msg::run_finished>(0).perf.has_value());
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
