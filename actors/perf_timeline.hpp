#pragma once
// The perf sampler's timeline as JSON, for the run report. Layout:
//   { "period_ms": 100,
//     "unavailable": [ {"name", "reason", "vcpus": [0, 1]} ],   // merged over vCPUs
//     "vcpus": [ {"vcpu", "tid", "started_at_s", "exited_at_s" (null while running),
//                 "counters": [ {"name", "guest_only"} ], "multiplexed": [names],
//                 "unavailable": [ {"name", "reason"} ], "samples_dropped",
//                 "exit_watch": null, or why the thread's exit may go unseen,
//                 "samples": [ {"at_s", "deltas": {name: delta}} ] } ] }
#include <nlohmann/json.hpp>

#include "actors/perf_sampler.hpp"

namespace ktstr::actors {

nlohmann::json perf_timeline_json(const perf_sampler_state& state);

}  // namespace ktstr::actors
