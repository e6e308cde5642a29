// The visual report in a real browser: headless Chromium (Debian's `chromium`, which
// scripts/setup.sh installs) loads the page drawn from a fixed experiment result
// (sample_experiment.json: two real runs from the nested host, trimmed) and must build
// one timeline per run with one lane per CPU, paint them, and log no console message at
// all (the page has no script, and its Content-Security-Policy refuses anything loaded
// from elsewhere, so any message is a problem). Without Chromium these tests fail.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "apps/cli/base/read_file.hpp"
#include "apps/cli/report/html_report.hpp"
#include "apps/cli/report/timeline_svg.hpp"
#include "tests/browser/headless_chromium.hpp"
#include "tests/browser/png_pixels.hpp"

using namespace ktstr;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

fs::path scratch(const std::string& name) {
  const char* base = std::getenv("KTSTR_TEST_SCRATCH");
  const fs::path root = base && *base ? fs::path(base) : fs::temp_directory_path();
  auto dir = root / ("ktstr-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

fs::path require_chromium() {
  const auto chromium = test::find_chromium();
  if (!chromium)
    FAIL("chromium is not installed (no `chromium` in PATH, no KTSTR_CHROMIUM): scripts/setup.sh installs Debian's "
         "package chromium; this test checks the HTML report in a real browser and cannot pass without one");
  return *chromium;
}

json sample(const std::string& name) {
  const auto text = cli::read_file(fs::path(KTSTR_SOURCE_DIR) / "tests/browser" / name);
  REQUIRE(text);
  auto j = json::parse(*text, nullptr, false);
  REQUIRE(j.is_object());
  return j;
}

json sample_experiment() { return sample("sample_experiment.json"); }

/// The marks a run's timeline must carry, counted from its result.json: every freeze,
/// fault, watchpoint hit and exit event, and the failed or inconclusive timed findings.
size_t marks_in(const json& result) {
  size_t n = result["freezes"]["list"].size() + result["faults"].size() + result["monitor"]["watch_events"].size() +
             result["monitor"]["exit_events"].size();
  for (const auto& f : result["scenario"]["findings"])
    n += (f["verdict"] == "fail" || f["verdict"] == "inconclusive") && f["at_ms"].is_number();
  n += result["scenario"]["scheduler"]["events"].size() + result["scenario"]["timing"]["steps"].size();
  return n;
}

/// The marks drawn inside each timeline of a DOM.
std::vector<size_t> marks_drawn(const std::string& dom) {
  std::vector<size_t> out;
  for (size_t at = dom.find("<svg class=\"timeline\""); at != std::string::npos; at = dom.find("<svg class=\"timeline\"", at + 1)) {
    const std::string svg = dom.substr(at, dom.find("</svg>", at) - at);
    out.push_back(count(svg, "class=\"mark "));
  }
  return out;
}

/// The task that ran most often in a run's monitor samples, and its CPU count.
std::pair<std::string, size_t> busiest_task(const json& result) {
  std::map<std::string, size_t> seen;
  for (const auto& s : result["monitor"]["samples"])
    for (const auto& c : s["cpus"])
      if (c["curr"].is_object() && c["curr"]["pid"] != 0) ++seen[c["curr"]["comm"].get<std::string>()];
  REQUIRE(!seen.empty());
  auto it = std::max_element(seen.begin(), seen.end(), [](auto& a, auto& b) { return a.second < b.second; });
  return *it;
}

}  // namespace

TEST_CASE("html report in headless Chromium: one timeline per run with one lane per CPU, painted, no console message") {
  const auto chromium = require_chromium();
  const auto x = sample_experiment();
  const auto dir = scratch("html-browser");
  const auto page = dir / "report.html";
  std::ofstream(page) << cli::experiment_html(x);

  // What the page must hold, from the experiment itself: each run's declared vCPUs.
  std::vector<std::string> lanes_expected;
  size_t lanes_total = 0;
  for (const auto& v : x["vms"]) {
    const auto n = v["result"]["declared"]["vcpus"].get<size_t>();
    lanes_expected.push_back(std::to_string(n));
    lanes_total += n;
  }
  REQUIRE(lanes_expected.size() == 2);

  // The DOM the browser built from the page (not the text we wrote): its timelines and lanes.
  const auto dom = test::run_chromium(chromium, page, {"--dump-dom"}, dir);
  INFO("chromium --dump-dom exit " << dom.exit_code << " in " << dom.seconds << " s; log:\n" << dom.err);
  REQUIRE(dom.exit_code == 0);
  REQUIRE_THAT(dom.out, Catch::Contains("</html>"));
  std::vector<std::string> lanes_seen;
  std::regex svg("<svg class=\"timeline\"[^>]* data-cpus=\"([0-9]+)\"");
  for (auto it = std::sregex_iterator(dom.out.begin(), dom.out.end(), svg); it != std::sregex_iterator(); ++it)
    lanes_seen.push_back((*it)[1]);
  CHECK(lanes_seen == lanes_expected);
  CHECK(count(dom.out, "<g class=\"lane\"") == lanes_total);
  CHECK(count(dom.out, "<section class=\"run\"") == lanes_expected.size());
  CHECK(marks_drawn(dom.out) == std::vector<size_t>{marks_in(x["vms"][0]["result"]), marks_in(x["vms"][1]["result"])});
  CHECK(dom.console_lines().empty());

  // The screenshot: the page painted, the timelines among it in their tasks' colours.
  const auto shot = dir / "report.png";
  const auto paint = test::run_chromium(chromium, page, {"--screenshot=" + shot.string()}, dir);
  INFO("chromium --screenshot exit " << paint.exit_code << " in " << paint.seconds << " s; log:\n" << paint.err);
  REQUIRE(paint.exit_code == 0);
  CHECK(paint.console_lines().empty());
  const auto png = test::decode_png(cli::read_file(shot).value_or(""));
  REQUIRE(png);
  CHECK(png->width == 1280);
  CHECK(png->height == 2000);
  std::set<int> colours;
  size_t ink = 0;
  for (const auto& p : png->pixels) {
    colours.insert(p.r << 16 | p.g << 8 | p.b);
    ink += p.r < 240 || p.g < 240 || p.b < 240;
  }
  CHECK(colours.size() > 50);
  CHECK(ink > png->pixels.size() / 50);
  const auto [task, samples] = busiest_task(x["vms"][0]["result"]);
  double h = 0, s = 0, l = 0;
  REQUIRE(std::sscanf(cli::task_color(task, false).c_str(), "hsl(%lf,%lf%%,%lf%%)", &h, &s, &l) == 3);
  const auto want = test::hsl_to_rgb(h, s / 100, l / 100);
  size_t painted = 0;
  for (const auto& p : png->pixels)
    painted += std::abs(p.r - want.r) <= 3 && std::abs(p.g - want.g) <= 3 && std::abs(p.b - want.b) <= 3;
  INFO("task " << task << " (" << samples << " samples) in rgb(" << want.r << "," << want.g << "," << want.b << ")");
  CHECK(painted > 500);
  WARN("browser check: " << dom.seconds + paint.seconds << " s in Chromium");
  fs::remove_all(dir);
}

TEST_CASE("html report of one run in headless Chromium: its lanes and every freeze, fault and watchpoint hit as a mark") {
  const auto chromium = require_chromium();
  const auto result = sample("sample_run.json");  // a real run: vcpu_stall on vCPU 1, a freeze, --watch total_forks
  REQUIRE(result["freezes"]["list"].size() == 1);
  REQUIRE(result["faults"].size() == 1);
  REQUIRE(result["monitor"]["watch_events"].size() > 10);
  const auto dir = scratch("html-browser-run");
  const auto page = dir / "run.html";
  std::ofstream(page) << cli::run_html(result, "pinned");
  const auto dom = test::run_chromium(chromium, page, {"--dump-dom"}, dir);
  INFO("chromium --dump-dom exit " << dom.exit_code << " in " << dom.seconds << " s; log:\n" << dom.err);
  REQUIRE(dom.exit_code == 0);
  CHECK(count(dom.out, "<svg class=\"timeline\"") == 1);
  CHECK(count(dom.out, "<g class=\"lane\"") == result["declared"]["vcpus"].get<size_t>());
  CHECK(marks_drawn(dom.out) == std::vector<size_t>{marks_in(result)});
  const auto timeline = dom.out.substr(dom.out.find("<svg class=\"timeline\""));
  CHECK(count(timeline.substr(0, timeline.find("</svg>")), "class=\"mark fault\"") == 1);  // on vCPU 1's lane
  CHECK(dom.console_lines().empty());
  fs::remove_all(dir);
}

TEST_CASE("headless Chromium harness: a script the report's policy refuses shows up as a console message") {
  // The check above is only worth something if a page problem reaches the log this way.
  const auto chromium = require_chromium();
  const auto dir = scratch("html-browser-control");
  const auto page = dir / "control.html";
  std::string html = cli::experiment_html(sample_experiment());
  html.insert(html.rfind("</body>"), "<script>document.title='ran'</script>");
  std::ofstream(page) << html;
  const auto r = test::run_chromium(chromium, page, {"--dump-dom"}, dir);
  INFO("log:\n" << r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.console_lines().size() == 1);
  CHECK_THAT(r.console_lines()[0], Catch::Contains("Content Security Policy"));
  CHECK_THAT(r.out, !Catch::Contains("<title>ran</title>"));
  fs::remove_all(dir);
}
