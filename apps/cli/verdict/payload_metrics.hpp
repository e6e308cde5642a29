#pragma once
// Numbers from a payload's output (the last lines the agent kept: guest text, hostile):
// one small parser per known tool, chosen by the program's file name. Unknown tools, and
// output a parser does not recognise, give no metrics; the exit code and the output are
// in the result either way.
//   hackbench   "Time: 1.803"                       -> time_s (lower is better)
//   stress-ng   --metrics-brief table               -> bogo_ops_s (sum, real time; higher),
//               "stress-ng: metrc: [pid] cpu 1098 2.01 0.64 0.01 546.86 1678.90"
//                                                    -> <stressor>.bogo_ops_s
//   cyclictest  "T: 0 ( 5796) P: 0 I:1000 C: 978 Min: 74 Act: 93 Avg: 122 Max: 4917"
//                                                    -> max_us (worst thread), avg_us (mean), min_us
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ktstr::cli {

/// Metric name -> value; every value finite.
using PayloadMetrics = std::map<std::string, double>;

/// The tool a program path is parsed as ("hackbench", "stress-ng", "cyclictest"), or "".
std::string_view payload_tool(std::string_view program);

/// The metrics in `output` for `program` (a path or a file name).
PayloadMetrics payload_metrics(std::string_view program, const std::vector<std::string>& output);

/// Whether a higher value of a payload metric is better (bogo ops); lower otherwise.
bool payload_metric_higher_is_better(std::string_view metric);

}  // namespace ktstr::cli
