// An experiment on live guests (needs /dev/kvm: run inside the nested host here): EEVDF
// against scx_simple on the fixture 6.12 kernel, one VM after the other, compared.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>

#include "apps/cli/base/exit_codes.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/files.hpp"
#include "tests/support/fixtures.hpp"

using namespace ktstr;

TEST_CASE("experiment A/B: EEVDF and scx_simple on the fixture kernel, with a hackbench payload beside the workers, "
          "each meet their expectation, and the comparison names scx_simple's work, gaps and hackbench time against "
          "EEVDF's", "[experiment][scx][payload]") {
  const auto fixture = test::require_scx_fixture();
  const auto dir = test::scratch_dir("experiment-ab");
  const auto file = dir / "ab.toml";
  std::ofstream(file) << "name = \"ab\"\n"
                         "[defaults]\n"
                         "kernel = \"" << fixture.kernel.string() << "\"\n"
                         "scenario = \"steady\"\n"
                         "payload = [\"hackbench\", \"-g\", \"1\", \"-l\", \"50\"]\n"
                         "[[vm]]\nname = \"eevdf\"\n"
                         "[[vm]]\nname = \"simple\"\nscheduler = \"" << (fixture.schedulers / "scx_simple").string() << "\"\n"
                         "[compare]\nbaseline = \"eevdf\"\nmetrics = [\"work_units\", \"max_gap_ms\", \"off_cpu_spread\", "
                         "\"payload.hackbench.time_s\"]\n";
  auto r = test::run_cli({"experiment", file.string(), "--host", "kvm", "--jobs", "1", "--out", (dir / "out").string(),
                          "--json", (dir / "x.json").string(), "--html", (dir / "x.html").string()});
  INFO(r.output);
  CHECK(r.exit_code == cli::exit_pass);
  const auto j = test::read_json(dir / "x.json");
  REQUIRE(j.is_object());
  REQUIRE(j["vms"].size() == 2);
  for (const auto& v : j["vms"]) {
    INFO(v["name"]);
    CHECK(v["met"] == true);
    CHECK(v["result"]["verdict"] == "pass");
    CHECK(v["result"]["kernel"]["path"].is_string());
    // The real program ran in the guest beside the workers and ended by itself.
    const auto& payloads = v["result"]["scenario"]["payloads"];
    REQUIRE(payloads.size() == 1);
    INFO(payloads.dump());
    CHECK(payloads[0]["name"] == "hackbench");
    CHECK(payloads[0]["exit_code"] == 0);
    CHECK(payloads[0]["stopped"] == false);
    CHECK(payloads[0]["metrics"]["time_s"].get<double>() > 0);
  }
  CHECK(j["vms"][1]["result"]["scenario"]["scheduler"].dump().find("simple") != std::string::npos);
  std::map<std::string, nlohmann::json> by_metric;
  for (const auto& c : j["comparisons"])
    if (c["vm"] == "simple") by_metric[c["metric"].get<std::string>()] = c;
  REQUIRE(by_metric.count("work_units"));
  CHECK(by_metric["work_units"]["baseline_mean"].get<double>() > 0);
  CHECK(by_metric["work_units"]["mean"].get<double>() > 0);
  CHECK(by_metric["work_units"]["ratio"].is_number());
  CHECK(by_metric.count("max_gap_ms"));
  REQUIRE(by_metric.count("payload.hackbench.time_s"));
  CHECK(by_metric["payload.hackbench.time_s"]["ratio"].is_number());
  CHECK_THAT(r.output, Catch::Contains("compared with eevdf"));
  // The page: both timelines, two lanes each, with what ran drawn from the live monitor.
  const std::string html = test::slurp(dir / "x.html");
  size_t timelines = 0, lanes = 0;
  for (size_t at = html.find("<svg class=\"timeline\""); at != std::string::npos; at = html.find("<svg class=\"timeline\"", at + 1))
    ++timelines;
  for (size_t at = html.find("<g class=\"lane\""); at != std::string::npos; at = html.find("<g class=\"lane\"", at + 1)) ++lanes;
  CHECK(timelines == 2);
  CHECK(lanes == 4);
  CHECK(html.find("<rect class=\"ran\"") != std::string::npos);
  // The progress went to disk as each VM ended.
  CHECK(test::read_json(dir / "out" / "experiment.json")["finished"] == true);
}
