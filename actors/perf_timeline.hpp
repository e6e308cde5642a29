#pragma once
// The perf sampler's state as the report it answers perf_report_atom with. The run
// report turns it into JSON (apps/cli/report/perf_json.hpp).
#include "actors/perf_sampler.hpp"
#include "messages/perf.hpp"

namespace ktstr::actors {

msg::perf_report perf_timeline(const perf_sampler_state& state);

}  // namespace ktstr::actors
