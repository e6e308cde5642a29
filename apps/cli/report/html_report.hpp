#pragma once
// The visual report: one self-contained HTML page (inline CSS and SVG, no script, no
// network; a Content-Security-Policy forbids loading anything) with the runs' summary,
// the comparison with the baseline, and per run a per-CPU timeline (timeline_svg.hpp).
// Built from the JSON alone, so it can be drawn again from any experiment.json.
// Everything from a result (guest-supplied text among it) is escaped.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ktstr::cli {

/// The page of an experiment's result (experiment.json: `vms`, `comparisons`); a partial
/// or interrupted one is drawn as far as it goes.
std::string experiment_html(const nlohmann::json& experiment);

/// The page of one `run`'s result.json: the same page with one run and no comparison.
std::string run_html(const nlohmann::json& result, std::string_view name);

}  // namespace ktstr::cli
