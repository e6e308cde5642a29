// run --fault: the grammar, and every refusal (one line, exit 87) before anything boots.
#include <catch2/catch.hpp>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/vm/fault_option.hpp"

using namespace ktstr::cli;

namespace {

std::string refusal(const std::vector<std::string>& texts) {
  auto r = parse_faults(texts, 4, 30);
  if (auto* refused = std::get_if<Refusal>(&r)) {
    CHECK(refused->exit_code == exit_fault);
    return refused->line;
  }
  return "accepted";
}

}  // namespace

TEST_CASE("run --fault: vcpu_stall parses into its vCPU, time and length") {
  auto r = parse_faults({"vcpu_stall:1@5+3", "vcpu_stall:1@8.5+0.5", "vcpu_stall:3@0+2"}, 4, 30);
  REQUIRE(std::holds_alternative<std::vector<ktstr::msg::fault_event>>(r));
  const auto& f = std::get<std::vector<ktstr::msg::fault_event>>(r);
  REQUIRE(f.size() == 3);
  CHECK(f[0].kind == "vcpu_stall");
  CHECK(f[0].vcpu == 1);
  CHECK(f[0].at_s == 5);
  CHECK(f[0].seconds == 3);
  CHECK(f[0].spec == "vcpu_stall:1@5+3");
  CHECK(f[0].applied_at_s == -1);
  CHECK(f[1].at_s == 8.5);  // right after the first ends: no overlap
  CHECK(f[2].vcpu == 3);
}

TEST_CASE("run --fault: unknown kinds, no such vCPU, past the run, too long and overlaps are refused, each saying why") {
  CHECK(refusal({"nmi:1"}) == "--fault nmi:1: unknown fault \"nmi\" (known: vcpu_stall:VCPU@AT+SECONDS)");
  CHECK(refusal({"vcpu_stall:1"}) == "--fault vcpu_stall:1: expected vcpu_stall:VCPU@AT+SECONDS, e.g. vcpu_stall:1@5+3");
  CHECK(refusal({"vcpu_stall:4@1+1"}) == "--fault vcpu_stall:4@1+1: no vCPU 4: the topology has 4 (0..3)");
  CHECK(refusal({"vcpu_stall:1.5@1+1"}) == "--fault vcpu_stall:1.5@1+1: the vCPU is a whole number");
  CHECK(refusal({"vcpu_stall:1@30+1"}) ==
        "--fault vcpu_stall:1@30+1: the time after '@' is seconds from VM start, before the run's end (30 s)");
  CHECK(refusal({"vcpu_stall:1@1+0"}) == "--fault vcpu_stall:1@1+0: the stall after '+' is more than 0 and at most 600 seconds");
  CHECK(refusal({"vcpu_stall:1@1+700"}) ==
        "--fault vcpu_stall:1@1+700: the stall after '+' is more than 0 and at most 600 seconds");
  CHECK(refusal({"vcpu_stall:1@5+3", "vcpu_stall:1@7+1"}) == "--fault vcpu_stall:1@7+1: overlaps vcpu_stall:1@5+3 on the same vCPU");
  CHECK(refusal({"vcpu_stall:1@5+3", "vcpu_stall:2@6+1"}) == "accepted");  // another vCPU
}
