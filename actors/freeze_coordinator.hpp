#pragma once
// The freeze coordinator: freeze-all = `freeze` plus a native kick to every vCPU, then
// collect one `parked` per vCPU before a deadline. All parked: a full snapshot. Deadline:
// a partial snapshot naming the vCPUs that did not park; those that did are thawed.
// Late or duplicate `parked` are ignored. The guest clock is held across a full freeze
// (hooks), and the watchdog is told how long the guest stood still.
// A final freeze (freeze_request::final: the vm actor's evidence before it stops a dead or
// hung guest) waits only for the vCPUs not skipped, thaws nobody, sends its snapshot to the
// final listener, and ends the coordinator's work: later requests are ignored. One that
// arrives while a freeze is in flight completes that freeze at once and follows it.
#include <caf/all.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"

namespace ktstr::actors {

struct FreezeCoordinatorConfig {
  std::vector<caf::actor> vcpus;                ///< index = vCPU number (dynamically typed: actors/vcpu.hpp)
  std::function<void(uint32_t vcpu)> kick;      ///< native kick after each freeze (empty in tests)
  std::function<void()> hold_clock;             ///< all parked: stop guest time (KVM_GET_CLOCK)
  std::function<void()> release_clock;          ///< before thaw: resume it (KVM_SET_CLOCK)
  /// All parked: the scheduler's state from guest memory, consistent because nothing runs
  /// (empty: no monitor; the snapshot then says so).
  std::function<msg::guest_state()> read_guest_state;
  std::chrono::milliseconds deadline{std::chrono::seconds(30)};
  run_observer observer;                        ///< receives every snapshot but a final one
  final_snapshot_listener final_listener;       ///< receives a final freeze's snapshot (the vm actor)
  frozen_listener watchdog;                     ///< receives frozen_for (may be null)
  /// Planned freezes: (time after start, trigger), e.g. --freeze-at and --snapshots.
  std::vector<std::pair<std::chrono::milliseconds, std::string>> schedule;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};

struct freeze_coordinator_state {
  struct InFlight {
    uint64_t id = 0;
    std::string trigger;
    std::chrono::steady_clock::time_point began;
    std::chrono::steady_clock::time_point all_parked;  ///< when the last parked came in
    std::map<uint32_t, msg::parked> parked;
    bool clock_held = false;
    bool final = false;
    std::vector<uint32_t> skip;   ///< not asked to park (final freezes)
    size_t expected = 0;          ///< how many parked complete it
  };
  FreezeCoordinatorConfig config;
  uint64_t next_id = 1;
  std::optional<InFlight> current;
  std::deque<msg::freeze_request> queued;  ///< requests that arrived during a freeze
  bool finished = false;                   ///< a final freeze began: nothing more to do
  static constexpr const char* name = "freeze_coordinator";
};

freeze_coordinator_actor_t::behavior_type freeze_coordinator_actor(
    freeze_coordinator_actor_t::stateful_pointer<freeze_coordinator_state> self, FreezeCoordinatorConfig config);

}  // namespace ktstr::actors
