#pragma once
// One run's timeline (run_timeline.hpp) as an inline SVG: an events row on top, one lane
// per CPU (what ran as coloured spans, the run-queue depth as grey shading below them),
// markers with <title> tooltips, a time axis in seconds from the VM's start. Every text
// from the result is escaped; colours, classes and sizes are computed, never copied.
#include <string>
#include <string_view>

#include "apps/cli/report/run_timeline.hpp"

namespace ktstr::cli {

/// The fill of a task's spans: a hue from its name (same name, same colour in every run), grey for idle.
std::string task_color(std::string_view comm, bool idle);

/// `<svg class="timeline" ...>` with `data-cpus` and one `<g class="lane">` per CPU; `title` names the run.
std::string timeline_svg(const RunTimeline& timeline, std::string_view title);

}  // namespace ktstr::cli
