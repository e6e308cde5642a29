#include "apps/cli/report/timeline_svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "apps/cli/report/junit_report.hpp"

namespace ktstr::cli {

namespace {

constexpr double kLabelWidth = 64;
constexpr double kPlotWidth = 960;
constexpr double kRightMargin = 16;
constexpr double kEventsHeight = 24;
constexpr double kLaneHeight = 34;
constexpr double kTaskBand = 12;   // what ran, at the lane's top
constexpr double kDepthBand = 17;  // the run-queue depth below it
constexpr double kAxisHeight = 26;

std::string esc(std::string_view text) { return xml_escape(text, true); }

struct Scale {
  double span_s;
  double x(double t) const { return kLabelWidth + std::clamp(t / span_s, 0.0, 1.0) * kPlotWidth; }
};

double lane_top(size_t lane) { return kEventsHeight + 4 + double(lane) * kLaneHeight; }

/// Ticks every 1, 2 or 5 x 10^k seconds, about ten of them.
double tick_step(double span_s) {
  const double raw = span_s / 10;
  const double base = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (base * m >= raw) return base * m;
  return base * 10;
}

std::string span_rects(const CpuLane& lane, const Scale& s, double top) {
  std::string out;
  for (const auto& r : lane.ran) {
    const double x0 = s.x(r.from_s), x1 = s.x(r.to_s);
    const std::string who = r.idle ? "idle (" + r.comm + ")" : fmt::format("{} [{}]", r.comm, r.pid);
    out += fmt::format(
        "<rect class=\"ran\" x=\"{:.2f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"{}\" fill=\"{}\"><title>CPU {}, {:.3f}-{:.3f} s: "
        "{}</title></rect>",
        x0, top + 2, std::max(0.4, x1 - x0), kTaskBand, task_color(r.comm, r.idle), lane.cpu, r.from_s, r.to_s, esc(who));
  }
  return out;
}

/// A step shape: each sample's depth holds until the next one.
std::string depth_path(const CpuLane& lane, const Scale& s, double top, double max_depth) {
  if (lane.depth.empty()) return {};
  const double base = top + 2 + kTaskBand + 1 + kDepthBand;
  auto y = [&](double d) { return base - std::clamp(d / max_depth, 0.0, 1.0) * kDepthBand; };
  std::string d = fmt::format("M{:.2f} {:.2f}V{:.2f}", s.x(lane.depth.front().at_s), base, y(lane.depth.front().depth));
  double deepest = 0;
  for (size_t i = 1; i < lane.depth.size(); ++i) {
    d += fmt::format("H{:.2f}V{:.2f}", s.x(lane.depth[i].at_s), y(lane.depth[i].depth));
    deepest = std::max(deepest, lane.depth[i].depth);
  }
  deepest = std::max(deepest, lane.depth.front().depth);
  d += fmt::format("H{:.2f}V{:.2f}Z", s.x(lane.depth.back().at_s), base);
  return fmt::format("<path class=\"depth\" d=\"{}\"><title>CPU {}: runnable tasks (nr_running), at most {:.0f}</title></path>", d,
                     lane.cpu, deepest);
}

std::string mark_class(const TimelineMark& m) {
  std::string c = std::string("mark ") + mark_kind_name(m.kind);
  if (m.severity == "fail") c += " sev-fail";
  else if (m.severity == "inconclusive") c += " sev-inconclusive";
  else if (m.severity == "planned") c += " sev-planned";
  return c;
}

/// An interval as a band (a freeze spans every lane), a moment as a small shape at the row's middle.
std::string mark_shape(const TimelineMark& m, const Scale& s, double top, double height) {
  const std::string title = "<title>" + esc(m.label) + "</title>";
  const double x0 = s.x(m.from_s), x1 = s.x(m.to_s);
  const double mid = top + height / 2;
  if (m.kind == MarkKind::freeze || m.kind == MarkKind::fault)
    return fmt::format("<rect class=\"{}\" x=\"{:.2f}\" y=\"{:.1f}\" width=\"{:.2f}\" height=\"{:.1f}\">{}</rect>", mark_class(m),
                       x0, top, std::max(2.0, x1 - x0), height, title);
  switch (m.kind) {
    case MarkKind::finding:  // a triangle pointing down at the moment
      return fmt::format("<path class=\"{}\" d=\"M{:.2f} {:.1f}l-6 -10h12z\">{}</path>", mark_class(m), x0, mid + 5, title);
    case MarkKind::watch_hit:
    case MarkKind::sched_exit:  // a diamond
      return fmt::format("<path class=\"{}\" d=\"M{:.2f} {:.1f}l6 6l-6 6l-6 -6z\">{}</path>", mark_class(m), x0, mid - 6, title);
    case MarkKind::scheduler:
      return fmt::format("<circle class=\"{}\" cx=\"{:.2f}\" cy=\"{:.1f}\" r=\"5\">{}</circle>", mark_class(m), x0, mid, title);
    default:  // a step: a tick
      return fmt::format("<rect class=\"{}\" x=\"{:.2f}\" y=\"{:.1f}\" width=\"2\" height=\"{:.1f}\">{}</rect>", mark_class(m),
                         x0 - 1, top + 2, height - 4, title);
  }
}

std::string time_axis(const Scale& s, double top, double bottom) {
  std::string out = fmt::format("<g class=\"axis\"><line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\"/>", kLabelWidth, bottom,
                                kLabelWidth + kPlotWidth, bottom);
  const double step = tick_step(s.span_s);
  for (int i = 0; i * step <= s.span_s * 1.0001 && i < 1000; ++i) {
    const double x = s.x(i * step);
    out += fmt::format("<line class=\"grid\" x1=\"{0:.2f}\" y1=\"{1:.1f}\" x2=\"{0:.2f}\" y2=\"{2:.1f}\"/>", x, top, bottom + 4);
    out += fmt::format("<text x=\"{:.2f}\" y=\"{:.1f}\" text-anchor=\"middle\">{:g}</text>", x, bottom + 16, i * step);
  }
  out += fmt::format("<text x=\"{:.2f}\" y=\"{:.1f}\" text-anchor=\"end\">s</text></g>", kLabelWidth - 6, bottom + 16);
  return out;
}

}  // namespace

std::string task_color(std::string_view comm, bool idle) {
  if (idle) return "#e2e5ea";
  uint32_t h = 2166136261u;  // FNV-1a, then a finalizer: names that differ in one digit get distant hues
  for (unsigned char c : comm) h = (h ^ c) * 16777619u;
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return fmt::format("hsl({},{}%,{}%)", h % 360, 50 + (h >> 9) % 25, 42 + (h >> 17) % 16);
}

std::string timeline_svg(const RunTimeline& t, std::string_view title) {
  const Scale s{t.span_s > 0 ? t.span_s : 1};
  const double lanes_bottom = lane_top(t.lanes.size());
  const double width = kLabelWidth + kPlotWidth + kRightMargin;
  const double height = lanes_bottom + kAxisHeight;
  const double max_depth = std::max(1.0, t.max_depth);
  std::string out = fmt::format(
      "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" data-cpus=\"{}\" data-marks=\"{}\" viewBox=\"0 0 {} {}\" "
      "width=\"{}\" height=\"{}\" role=\"img\"><title>{}</title>\n",
      t.lanes.size(), t.marks.size(), width, height, width, height, esc(title));
  out += fmt::format("<g class=\"events-row\"><text class=\"lane-label\" x=\"4\" y=\"{:.1f}\">events</text>"
                     "<rect class=\"row-bg\" x=\"{}\" y=\"2\" width=\"{}\" height=\"{}\"/>",
                     kEventsHeight / 2 + 5, kLabelWidth, kPlotWidth, kEventsHeight - 2);
  for (const auto& m : t.marks)
    if (!m.cpu && m.kind != MarkKind::freeze) out += mark_shape(m, s, 2, kEventsHeight - 2);
  out += "</g>\n";
  for (size_t i = 0; i < t.lanes.size(); ++i) {
    const auto& lane = t.lanes[i];
    const double top = lane_top(i);
    out += fmt::format("<g class=\"lane\" data-cpu=\"{}\"><text class=\"lane-label\" x=\"4\" y=\"{:.1f}\">CPU {}</text>"
                       "<rect class=\"row-bg\" x=\"{}\" y=\"{:.1f}\" width=\"{}\" height=\"{}\"/>",
                       lane.cpu, top + kLaneHeight / 2 + 4, lane.cpu, kLabelWidth, top, kPlotWidth, kLaneHeight - 2);
    out += span_rects(lane, s, top);
    out += depth_path(lane, s, top, max_depth);
    for (const auto& m : t.marks)
      if (m.cpu == lane.cpu && m.kind != MarkKind::freeze) out += mark_shape(m, s, top, kLaneHeight - 2);
    out += "</g>\n";
  }
  // Freezes stop every vCPU: a band over all rows, drawn last so it stays visible.
  for (const auto& m : t.marks)
    if (m.kind == MarkKind::freeze) out += mark_shape(m, s, 0, lanes_bottom);
  out += time_axis(s, 0, lanes_bottom + 2);
  out += "</svg>\n";
  return out;
}

}  // namespace ktstr::cli
