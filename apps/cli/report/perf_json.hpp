#pragma once
// The perf sampler's report as result.json's "perf" object. Layout:
//   { "period_ms": 100,
//     "unavailable": [ {"name", "reason", "vcpus": [0, 1]} ],   // merged over vCPUs
//     "vcpus": [ {"vcpu", "tid", "started_at_s", "exited_at_s" (null while running),
//                 "counters": [ {"name", "guest_only"} ], "multiplexed": [names],
//                 "unavailable": [ {"name", "reason"} ], "samples_dropped",
//                 "exit_watch": null, or why the thread's exit may go unseen,
//                 "samples": [ {"at_s", "deltas": {name: delta}} ] } ] }
#include <nlohmann/json.hpp>

#include "messages/perf.hpp"

namespace ktstr::cli {

nlohmann::json perf_json(const msg::perf_report& report);

}  // namespace ktstr::cli
