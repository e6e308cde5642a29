// run --watch: the spec's grammar, and its resolution against a kernel's symbols; then
// the refusal as the binary gives it (one line, exit 85) before anything boots.
#include <catch2/catch.hpp>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/vm/watch_option.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/fixtures.hpp"

using namespace ktstr;
using namespace ktstr::cli;

namespace {

guest_kernel::SymbolTable symbols() {
  return guest_kernel::SymbolTable({{0xffffffff82000000ull, 'D', "total_forks"},
                                    {0xffffffff82000008ull, 'D', "nr_threads"},
                                    {0xffffffff82000010ull, 'D', "after"},
                                    {0x2f4c0, 'A', "runqueues"}});
}

std::string refusal(const std::vector<std::string>& texts) {
  auto r = resolve_watches(texts, symbols());
  if (auto* refused = std::get_if<Refusal>(&r)) {
    CHECK(refused->exit_code == exit_watch);
    return refused->line;
  }
  return "accepted";
}

}  // namespace

TEST_CASE("run --watch: specs resolve to slots 1.. with their link addresses, lengths and freeze flags") {
  auto r = resolve_watches({"total_forks", "nr_threads:4,freeze", "nr_threads+4:4"}, symbols());
  REQUIRE(std::holds_alternative<std::vector<actors::WatchConfig>>(r));
  const auto& w = std::get<std::vector<actors::WatchConfig>>(r);
  REQUIRE(w.size() == 3);
  CHECK(w[0].slot == 1);
  CHECK(w[0].link_address == 0xffffffff82000000ull);
  CHECK(w[0].length == 8);
  CHECK_FALSE(w[0].freeze);
  CHECK(w[1].slot == 2);
  CHECK(w[1].length == 4);
  CHECK(w[1].freeze);
  CHECK(w[2].link_address == 0xffffffff8200000cull);
}

TEST_CASE("run --watch: malformed, unknown, per-CPU, misaligned, past the symbol and a fourth are refused, each "
          "saying why") {
  CHECK_THAT(refusal({"total_forks:3"}), Catch::Contains("the length after ':' is 1, 2, 4 or 8 bytes"));
  CHECK_THAT(refusal({"total_forks,stop"}), Catch::Contains("the only flag after ',' is freeze"));
  CHECK_THAT(refusal({"bad symbol"}), Catch::Contains("expected SYMBOL[+OFFSET][:LEN][,freeze]"));
  CHECK_THAT(refusal({"nosuch"}), Catch::Contains("no symbol nosuch in this kernel"));
  CHECK_THAT(refusal({"runqueues:4"}), Catch::Contains("is a per-CPU symbol"));
  CHECK_THAT(refusal({"total_forks+2:4"}), Catch::Contains("is not aligned to its length 4"));
  CHECK_THAT(refusal({"nr_threads+8:8"}), Catch::Contains("run past the end of nr_threads"));
  CHECK_THAT(refusal({"total_forks", "total_forks", "total_forks", "total_forks"}),
             Catch::Contains("at most 3 watched words (slots 1-3; slot 0 watches the sched_ext exit kind), 4 given"));
}

TEST_CASE("a scenario's watch op resolves with its step and condition, and a refusal names its place in the file") {
  std::vector<WatchRequest> requests{{"total_forks"},
                                     {"nr_threads:4", "t.toml:9: step[1].ops[0] watch", 1,
                                      guest_kernel::parse_word_condition("> 3")}};
  auto r = resolve_watches(requests, symbols());
  REQUIRE(std::holds_alternative<std::vector<actors::WatchConfig>>(r));
  const auto& w = std::get<std::vector<actors::WatchConfig>>(r);
  REQUIRE(w.size() == 2);
  CHECK_FALSE(w[0].from_step);
  CHECK(w[1].slot == 2);
  CHECK(w[1].from_step == 1u);
  REQUIRE(w[1].when);
  CHECK(w[1].when->text() == "> 3");
  requests[1].text = "nosuch:4";
  auto refused = resolve_watches(requests, symbols());
  REQUIRE(std::holds_alternative<Refusal>(refused));
  CHECK(std::get<Refusal>(refused).line == "t.toml:9: step[1].ops[0] watch nosuch:4: no symbol nosuch in this kernel "
                                           "(see `ktstr-actors kernel inspect`)");
}

TEST_CASE("run --watch on a real kernel: an unknown symbol is refused before boot with one line and exit 85") {
  const auto fixture = test::require_scx_fixture();
  auto r = test::run_cli({"run", "--kernel", fixture.kernel.string(), "--watch", "no_such_symbol_here"});
  CHECK(r.exit_code == exit_watch);
  CHECK_THAT(r.output, Catch::Contains("ktstr-actors: --watch no_such_symbol_here: no symbol no_such_symbol_here in "
                                       "this kernel"));
  auto off = test::run_cli({"run", "--kernel", fixture.kernel.string(), "--monitor-period", "0", "--watch", "jiffies_64"});
  CHECK(off.exit_code == exit_watch);
  CHECK_THAT(off.output, Catch::Contains("--watch needs the monitor"));
}
