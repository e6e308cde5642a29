#pragma once
// The typed interfaces of the event-based actors: a message an actor does not handle is
// a compile error at the sender. Where a component talks to its supervisor it holds the
// narrow interface it needs (the vm actor's handle converts to each), so tests can stand
// in with a scoped actor cast to that interface.
//
// CAF 0.17 has no private messages: an actor's own timer ticks (sample_atom, rekick_atom,
// freeze_deadline) are part of its interface.
//
// The vcpu actor stays dynamically typed: it is a blocking actor that drains its mailbox
// between KVM_RUN calls with receive(), and CAF 0.17 has no typed blocking actor. What it
// takes: stop_atom, freeze, thaw, ping, cpu_state_query, arm_watchpoint, disarm_watchpoint,
// drop_kicks, inject_nmi (actors/vcpu.hpp).
#include <caf/typed_actor.hpp>
#include <caf/replies_to.hpp>

#include "messages/atoms.hpp"
#include "messages/fault.hpp"
#include "messages/freeze.hpp"
#include "messages/guest_io.hpp"
#include "messages/monitor.hpp"
#include "messages/perf.hpp"
#include "messages/run.hpp"
#include "messages/vcpu.hpp"
#include "messages/watchdog.hpp"
#include "messages/watchpoint.hpp"

namespace ktstr::actors {

// -- what a component needs of its supervisor (the vm actor) --------------------

/// What a vcpu actor tells the vm actor.
using vcpu_supervisor = caf::typed_actor<caf::reacts_to<msg::guest_stopped>, caf::reacts_to<msg::vcpu_failed>,
                                         caf::reacts_to<msg::vcpu_exited>, caf::reacts_to<msg::fault_outcome>>;

/// Who learns what an injected fault did (the vm actor; a test's probe).
using fault_listener = caf::typed_actor<caf::reacts_to<msg::fault_outcome>>;

/// What the watchdog tells the vm actor.
using watchdog_listener =
    caf::typed_actor<caf::reacts_to<msg::soft_atom>, caf::reacts_to<msg::hard_atom>, caf::reacts_to<msg::stall>>;

/// What the console tells the vm actor.
using panic_listener = caf::typed_actor<caf::reacts_to<msg::kernel_panic>>;

/// Who learns each vCPU thread's TID (the perf sampler).
using vcpu_start_listener = caf::typed_actor<caf::reacts_to<msg::vcpu_started>>;

/// Who learns how long the guest stood still (the watchdog).
using frozen_listener = caf::typed_actor<caf::reacts_to<msg::frozen_for>>;

/// Who learns that the guest made progress (the watchdog).
using progress_listener = caf::typed_actor<caf::reacts_to<msg::progress>>;

/// Who learns of a vCPU's watchpoint hits, and whether its arm_watchpoint /
/// disarm_watchpoint took (a vcpu answers those to their sender).
using watchpoint_listener = caf::typed_actor<caf::reacts_to<msg::watchpoint_hit>, caf::reacts_to<msg::guest_debug_result>>;

// -- whoever asked for the run (run_vm's scoped actor, a test, a benchmark) -----

/// Receives the agent's lines (console), snapshots (freeze coordinator) and, at the end,
/// run_finished (vm).
using run_observer = caf::typed_actor<caf::reacts_to<msg::agent_line>, caf::reacts_to<msg::snapshot>,
                                      caf::reacts_to<msg::run_finished>>;

/// Receives a final freeze's snapshot: every vCPU's state before a dead or hung guest is
/// stopped (the vm actor).
using final_snapshot_listener = caf::typed_actor<caf::reacts_to<msg::snapshot>>;

/// Receives every perf sample (optional).
using perf_sample_listener = caf::typed_actor<caf::reacts_to<msg::perf_sample>>;

// -- the actors -------------------------------------------------------------------

using console_actor_t =
    caf::typed_actor<caf::reacts_to<msg::console_output>, caf::replies_to<msg::tail_atom>::with<msg::console_tail>>;

using watchdog_actor_t = caf::typed_actor<caf::reacts_to<msg::progress>, caf::reacts_to<msg::frozen_for>,
                                          caf::reacts_to<msg::sample_atom>>;

using perf_sampler_actor_t =
    caf::typed_actor<caf::reacts_to<msg::vcpu_started>, caf::reacts_to<msg::sample_atom>,
                     caf::replies_to<msg::perf_report_atom>::with<msg::perf_report>>;

/// Who takes requests for a snapshot (the vm actor forwards them to its freeze coordinator).
using freeze_requester = caf::typed_actor<caf::reacts_to<msg::freeze_request>>;

using monitor_actor_t =
    caf::typed_actor<caf::reacts_to<msg::vcpu_started>, caf::reacts_to<msg::sample_atom>,
                     caf::reacts_to<msg::exit_poll_atom>, caf::reacts_to<msg::watchpoint_hit>,
                     caf::reacts_to<msg::guest_debug_result>, caf::reacts_to<msg::scenario_step>,
                     caf::reacts_to<msg::cpu_state>, caf::reacts_to<msg::guest_write>,
                     caf::replies_to<msg::monitor_report_atom>::with<msg::monitor_report>>;

using freeze_coordinator_actor_t = caf::typed_actor<caf::reacts_to<msg::freeze_request>, caf::reacts_to<msg::parked>,
                                                    caf::reacts_to<msg::freeze_deadline>>;

using vm_actor_t = caf::typed_actor<caf::reacts_to<msg::guest_stopped>, caf::reacts_to<msg::vcpu_failed>,
                                    caf::reacts_to<msg::vcpu_exited>, caf::reacts_to<msg::kernel_panic>,
                                    caf::reacts_to<msg::soft_atom>, caf::reacts_to<msg::hard_atom>,
                                    caf::reacts_to<msg::stall>, caf::reacts_to<msg::freeze_request>,
                                    caf::reacts_to<msg::stop_atom>, caf::reacts_to<msg::rekick_atom>,
                                    caf::reacts_to<msg::scenario_step>, caf::reacts_to<msg::fault_step>,
                                    caf::reacts_to<msg::parked>, caf::reacts_to<msg::snapshot>,
                                    caf::reacts_to<msg::evidence_atom>, caf::reacts_to<msg::fault_outcome>>;

}  // namespace ktstr::actors
