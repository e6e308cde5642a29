#include <catch2/catch.hpp>

#include "apps/cli/vm/perf_choice.hpp"

using namespace ktstr;
using std::chrono::milliseconds;

namespace {
kvm::HostQuirks bare_metal() { return {}; }
kvm::HostQuirks under_tcg() {
  kvm::HostQuirks q;
  q.outer_hypervisor = "TCGTCGTCGTCG";
  q.xsetbv_not_intercepted = true;
  q.ipi_to_guest_may_hang = true;
  return q;
}
}  // namespace

TEST_CASE("perf choice: unset samples every second on a real host", "[perf]") {
  const auto c = cli::choose_perf_period(std::nullopt, bare_metal());
  CHECK(c.period == milliseconds(1000));
  CHECK(c.off_reason.empty());
}

TEST_CASE("perf choice: unset is off under TCG, and says why and how to turn it on", "[perf]") {
  const auto c = cli::choose_perf_period(std::nullopt, under_tcg());
  CHECK(c.period == milliseconds(0));
  CHECK_THAT(c.off_reason, Catch::Contains("TCGTCGTCGTCG") && Catch::Contains("--perf-period MS"));
}

TEST_CASE("perf choice: an explicit period wins on any host - 0 is off", "[perf]") {
  CHECK(cli::choose_perf_period(250u, under_tcg()).period == milliseconds(250));
  CHECK(cli::choose_perf_period(250u, under_tcg()).off_reason.empty());
  CHECK(cli::choose_perf_period(250u, bare_metal()).period == milliseconds(250));
  const auto off = cli::choose_perf_period(0u, bare_metal());
  CHECK(off.period == milliseconds(0));
  CHECK_THAT(off.off_reason, Catch::Contains("--perf-period 0"));
}
