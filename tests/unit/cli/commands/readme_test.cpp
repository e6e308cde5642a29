// The README says what the binary does: its run synopsis names every option `run --help`
// has (and no other), states each non-zero default next to the option, and its exit-code
// table has exactly the codes of apps/cli/base/exit_codes.hpp.
#include <catch2/catch.hpp>

#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/cli.hpp"
#include "tests/support/files.hpp"

namespace {

const std::string& readme() {
  static const std::string text = ktstr::test::slurp(std::filesystem::path(KTSTR_SOURCE_DIR) / "README.md");
  return text;
}

/// The text from the line starting with `heading` to the next heading of its level or above.
std::string section(const std::string& heading) {
  const auto& text = readme();
  auto start = text.find("\n" + heading + "\n");
  REQUIRE(start != std::string::npos);
  auto end = text.find("\n## ", start + 1);
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

struct HelpOption {
  std::string name;     ///< "--timeout"
  std::string fallback; ///< "120", or "" when there is none
};

std::vector<HelpOption> run_help_options() {
  auto r = ktstr::test::run_cli({"run", "--help"});
  REQUIRE(r.exit_code == 0);
  std::vector<HelpOption> out;
  std::istringstream lines(r.output);
  const std::regex option(R"(^  (--[a-z-]+)(?: [A-Z]+(?::\{[^}]*\})?(?:=(\S+))?)?)");
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, option) && m[1] != "--help") out.push_back({m[1], m[2]});
  }
  return out;
}

}  // namespace

TEST_CASE("README: the run synopsis names exactly the options of run --help") {
  const auto help = run_help_options();
  REQUIRE(help.size() >= 15);
  const std::string synopsis = section("## `ktstr-actors run`").substr(0, section("## `ktstr-actors run`").find("\n\n", 30));
  std::set<std::string> in_help, in_synopsis;
  for (const auto& o : help) in_help.insert(o.name);
  const std::regex option(R"(--[a-z][a-z-]*)");
  for (auto it = std::sregex_iterator(synopsis.begin(), synopsis.end(), option); it != std::sregex_iterator(); ++it)
    in_synopsis.insert(it->str());
  CHECK(in_synopsis == in_help);
}

TEST_CASE("README: every non-zero default of run --help is stated next to its option") {
  const auto& text = readme();
  for (const auto& o : run_help_options()) {
    if (o.fallback.empty() || o.fallback == "0") continue;
    INFO(o.name << " defaults to " << o.fallback);
    // Stated: somewhere the option is named with its default close after it.
    bool stated = false;
    for (auto at = text.find(o.name); at != std::string::npos && !stated; at = text.find(o.name, at + 1))
      stated = text.substr(at, 200).find(o.fallback) != std::string::npos;
    CHECK(stated);
  }
}

TEST_CASE("README: the exit-code table has exactly the codes of exit_codes.hpp") {
  const std::string header =
      ktstr::test::slurp(std::filesystem::path(KTSTR_SOURCE_DIR) / "apps/cli/base/exit_codes.hpp");
  std::set<int> declared, documented;
  const std::regex enumerator(R"(exit_[a-z_]+ = (\d+),)");
  for (auto it = std::sregex_iterator(header.begin(), header.end(), enumerator); it != std::sregex_iterator(); ++it)
    declared.insert(std::stoi((*it)[1]));
  const std::string table = section("### Exit codes");
  const std::regex row(R"(\n\| (\d+) \|)");
  for (auto it = std::sregex_iterator(table.begin(), table.end(), row); it != std::sregex_iterator(); ++it)
    documented.insert(std::stoi((*it)[1]));
  REQUIRE(declared.size() >= 20);
  CHECK(documented == declared);
}
