#include "apps/cli/verdict/payload_metrics.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <sstream>

namespace ktstr::cli {

namespace {

constexpr double kMaxValue = 1e15;  // beyond any real figure of these tools: refused as garbage

std::optional<double> number(std::string_view text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v) || std::fabs(v) > kMaxValue) return std::nullopt;
  return v;
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

PayloadMetrics hackbench(const std::vector<std::string>& output) {
  PayloadMetrics m;
  for (const auto& line : output) {
    auto w = words(line);
    if (w.size() == 2 && w[0] == "Time:")
      if (auto v = number(w[1]); v && *v >= 0) m["time_s"] = *v;  // the last one wins
  }
  return m;
}

// "stress-ng: metrc: [5710] cpu  1098  2.01  0.64  0.01  546.86  1678.90": the tag is
// "metrc:" (newer) or "info:" (older), then the pid, then the stressor and six numbers.
PayloadMetrics stress_ng(const std::vector<std::string>& output) {
  PayloadMetrics m;
  double total = 0;
  bool any = false;
  for (const auto& line : output) {
    auto w = words(line);
    if (w.size() != 10 || w[0] != "stress-ng:" || (w[1] != "metrc:" && w[1] != "info:") || w[2].front() != '[') continue;
    std::optional<double> values[6];
    bool all = true;
    for (int i = 0; i < 6; ++i) all = all && (values[i] = number(w[4 + i])).has_value() && *values[i] >= 0;
    if (!all) continue;
    std::string stressor(w[3]);
    bool name_ok = !stressor.empty() && stressor.size() <= 32;
    for (char c : stressor) name_ok = name_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
    if (!name_ok || m.count(stressor + ".bogo_ops_s")) continue;
    m[stressor + ".bogo_ops_s"] = *values[4];
    total += *values[4];
    any = true;
  }
  if (any) m["bogo_ops_s"] = total;
  return m;
}

// The value after a "Key:" word, which may be glued to it ("I:1000") or follow it ("Max:  4917").
std::optional<double> field(const std::vector<std::string_view>& w, std::string_view key) {
  for (size_t i = 0; i < w.size(); ++i) {
    if (!w[i].starts_with(key)) continue;
    auto rest = w[i].substr(key.size());
    if (!rest.empty()) return number(rest);
    if (i + 1 < w.size()) return number(w[i + 1]);
  }
  return std::nullopt;
}

PayloadMetrics cyclictest(const std::vector<std::string>& output) {
  PayloadMetrics m;
  double worst = 0, best = 0, avg_sum = 0;
  int threads = 0;
  for (const auto& line : output) {
    auto w = words(line);
    if (w.empty() || w[0] != "T:") continue;
    auto min = field(w, "Min:"), avg = field(w, "Avg:"), max = field(w, "Max:");
    if (!min || !avg || !max || *min < 0 || *avg < 0 || *max < 0) continue;
    worst = threads ? std::max(worst, *max) : *max;
    best = threads ? std::min(best, *min) : *min;
    avg_sum += *avg;
    ++threads;
  }
  if (threads) {
    m["max_us"] = worst;
    m["min_us"] = best;
    m["avg_us"] = avg_sum / threads;
  }
  return m;
}

}  // namespace

std::string_view payload_tool(std::string_view program) {
  const auto slash = program.rfind('/');
  const std::string_view file = slash == std::string_view::npos ? program : program.substr(slash + 1);
  for (std::string_view tool : {"hackbench", "stress-ng", "cyclictest"})
    if (file == tool) return tool;
  return {};
}

PayloadMetrics payload_metrics(std::string_view program, const std::vector<std::string>& output) {
  const auto tool = payload_tool(program);
  if (tool == "hackbench") return hackbench(output);
  if (tool == "stress-ng") return stress_ng(output);
  if (tool == "cyclictest") return cyclictest(output);
  return {};
}

bool payload_metric_higher_is_better(std::string_view metric) { return metric.ends_with("bogo_ops_s"); }

}  // namespace ktstr::cli
