#include "apps/cli/kernel/make_progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ktstr::cli {

std::optional<KbuildStep> parse_kbuild_line(std::string_view line) {
  // Kbuild: two spaces, the tag (upper-case letters, digits, '_', optionally " [M]" or
  // " [U]"), padding spaces, the target. Make's own lines and compiler messages start
  // otherwise.
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() < 4 || line[0] != ' ' || line[1] != ' ' || line[2] == ' ') return std::nullopt;
  std::size_t i = 2;
  while (i < line.size() && ((line[i] >= 'A' && line[i] <= 'Z') || (line[i] >= '0' && line[i] <= '9') || line[i] == '_'))
    ++i;
  if (i == 2) return std::nullopt;
  std::string tool(line.substr(2, i - 2));
  if (line.substr(i, 4) == " [M]" || line.substr(i, 4) == " [U]") {
    tool += line.substr(i, 4);
    i += 4;
  }
  if (i >= line.size() || line[i] != ' ') return std::nullopt;
  while (i < line.size() && line[i] == ' ') ++i;
  if (i >= line.size()) return std::nullopt;
  std::string_view target = line.substr(i);
  if (target.find(' ') != std::string_view::npos && target.find('/') == std::string_view::npos) return std::nullopt;
  return KbuildStep{std::move(tool), std::string(target)};
}

bool is_compile_step(const KbuildStep& step) {
  bool tool = step.tool == "CC" || step.tool == "AS" || step.tool == "CC [M]" || step.tool == "AS [M]";
  const std::string& t = step.target;
  return tool && t.size() > 2 && t.compare(t.size() - 2, 2, ".o") == 0;
}

bool MakeProgress::feed(std::string_view line) {
  auto step = parse_kbuild_line(line);
  if (!step || !is_compile_step(*step)) return false;
  ++compiled_;
  last_target_ = step->target;
  return true;
}

std::size_t MakeProgress::expected() const {
  if (expected_ == 0) return 0;
  // A guess that turned out too low grows ahead of the count, so the bar never sits at 100%.
  return std::max(expected_, compiled_ + compiled_ / 20 + 1);
}

std::optional<double> MakeProgress::seconds_left(double elapsed_s) const {
  if (expected_ == 0 || compiled_ < 20 || elapsed_s <= 0) return std::nullopt;
  return elapsed_s / static_cast<double>(compiled_) * static_cast<double>(expected() - compiled_);
}

std::string MakeProgress::render(double elapsed_s) const {
  std::string out = std::to_string(compiled_);
  if (expected_ != 0) {
    std::size_t total = expected();
    int pct = static_cast<int>(100.0 * static_cast<double>(compiled_) / static_cast<double>(total));
    out += "/" + std::string(rough_ ? "~" : "") + std::to_string(total) + " objects (" + std::to_string(pct) + "%)";
  } else {
    out += " objects";
  }
  out += "  " + format_duration(elapsed_s) + " elapsed";
  if (auto left = seconds_left(elapsed_s)) out += "  ~" + format_duration(*left) + " left";
  if (!last_target_.empty()) out += "  " + last_target_;
  return out;
}

std::string format_duration(double seconds) {
  long s = std::lround(std::max(0.0, seconds));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lds", s);
  return buf;
}

}  // namespace ktstr::cli
