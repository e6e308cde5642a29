// run --fault: the grammar, and every refusal (one line, exit 87) before anything boots.
#include <catch2/catch.hpp>

#include "apps/cli/base/exit_codes.hpp"
#include "kvm/hex.hpp"
#include "apps/cli/vm/fault_option.hpp"

using ktstr::msg::fault_event;

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
  CHECK(refusal({"vcpu_pause:1@1+1"}) ==
        "--fault vcpu_pause:1@1+1: unknown fault \"vcpu_pause\" (known: vcpu_stall:VCPU@AT+SECONDS, "
        "vcpu_jitter:VCPU@AT+SECONDS/PERIOD_MS:PAUSE_MS, kick_loss:VCPU@AT+COUNT, nmi:VCPU@AT, "
        "guest_write:SYMBOL[+OFF][:LEN]=VALUE@AT)");
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

namespace {

std::vector<fault_event> accepted(const std::vector<std::string>& texts) {
  auto r = parse_faults(texts, 4, 30);
  if (auto* refused = std::get_if<Refusal>(&r)) FAIL("refused: " << refused->line);
  return std::get<std::vector<fault_event>>(r);
}

}  // namespace

TEST_CASE("run --fault: vcpu_jitter parses its window, period and pause") {
  const auto f = accepted({"vcpu_jitter:2@5+4/100:30"});
  REQUIRE(f.size() == 1);
  CHECK(f[0].kind == "vcpu_jitter");
  CHECK(f[0].vcpu == 2);
  CHECK(f[0].at_s == 5);
  CHECK(f[0].seconds == 4);
  CHECK(f[0].period_ms == 100);
  CHECK(f[0].pause_ms == 30);
  CHECK(f[0].pauses == 0);
}

TEST_CASE("run --fault: vcpu_jitter refuses a bad shape, period, pause, too many pauses and overlaps with a stall") {
  CHECK(refusal({"vcpu_jitter:1@5+4"}) == "--fault vcpu_jitter:1@5+4: expected vcpu_jitter:VCPU@AT+SECONDS/PERIOD_MS:PAUSE_MS, "
                                          "e.g. vcpu_jitter:1@5+4/100:30");
  CHECK(refusal({"vcpu_jitter:1@5+4/5:1"}) == "--fault vcpu_jitter:1@5+4/5:1: the period after '/' is 10 to 60000 ms");
  CHECK(refusal({"vcpu_jitter:1@5+4/100:100"}) ==
        "--fault vcpu_jitter:1@5+4/100:100: the pause after ':' is at least 1 ms and shorter than the period");
  CHECK(refusal({"vcpu_jitter:1@5+4/100:0"}) ==
        "--fault vcpu_jitter:1@5+4/100:0: the pause after ':' is at least 1 ms and shorter than the period");
  CHECK(refusal({"vcpu_jitter:1@5+0/100:10"}) ==
        "--fault vcpu_jitter:1@5+0/100:10: the window after '+' is more than 0 and at most 600 seconds");
  CHECK(refusal({"vcpu_jitter:1@5+200/10:1"}) ==
        "--fault vcpu_jitter:1@5+200/10:1: 20000 pauses; at most 10000 (a longer period or a shorter window)");
  CHECK(refusal({"vcpu_stall:1@5+3", "vcpu_jitter:1@7+4/100:30"}) ==
        "--fault vcpu_jitter:1@7+4/100:30: overlaps vcpu_stall:1@5+3 on the same vCPU");
  CHECK(refusal({"vcpu_jitter:1@7+4/100:30", "vcpu_stall:1@10+1"}) ==
        "--fault vcpu_stall:1@10+1: overlaps vcpu_jitter:1@7+4/100:30 on the same vCPU");
  CHECK(refusal({"vcpu_jitter:1@7+4/100:30", "vcpu_stall:1@11+1"}) == "accepted");  // right after the window
  CHECK(refusal({"vcpu_jitter:9@7+4/100:30"}) == "--fault vcpu_jitter:9@7+4/100:30: no vCPU 9: the topology has 4 (0..3)");
}

TEST_CASE("run --fault: kick_loss parses its count - a zero or huge count and a second one on the vCPU are refused") {
  const auto f = accepted({"kick_loss:1@2+50", "kick_loss:0@2+1", "vcpu_stall:1@3+1"});
  REQUIRE(f.size() == 3);
  CHECK(f[0].kind == "kick_loss");
  CHECK(f[0].vcpu == 1);
  CHECK(f[0].at_s == 2);
  CHECK(f[0].count == 50);
  CHECK(refusal({"kick_loss:1@2"}) == "--fault kick_loss:1@2: expected kick_loss:VCPU@AT+COUNT, e.g. kick_loss:1@5+20");
  CHECK(refusal({"kick_loss:1@2+0"}) == "--fault kick_loss:1@2+0: the count after '+' is 1 to 100000 kicks");
  CHECK(refusal({"kick_loss:1@2+1.5"}) == "--fault kick_loss:1@2+1.5: the count after '+' is 1 to 100000 kicks");
  CHECK(refusal({"kick_loss:1@2+100001"}) == "--fault kick_loss:1@2+100001: the count after '+' is 1 to 100000 kicks");
  CHECK(refusal({"kick_loss:1@2+5", "kick_loss:1@9+5"}) ==
        "--fault kick_loss:1@9+5: vCPU 1 already has kick_loss:1@2+5 (one kick_loss per vCPU)");
  CHECK(refusal({"kick_loss:4@2+5"}) == "--fault kick_loss:4@2+5: no vCPU 4: the topology has 4 (0..3)");
  CHECK(refusal({"kick_loss:1@31+5"}) ==
        "--fault kick_loss:1@31+5: the time after '@' is seconds from VM start, before the run's end (30 s)");
}

TEST_CASE("run --fault: nmi takes a vCPU and a time, nothing more") {
  const auto f = accepted({"nmi:3@12.5", "nmi:3@13"});  // two NMIs on one vCPU: fine
  REQUIRE(f.size() == 2);
  CHECK(f[0].kind == "nmi");
  CHECK(f[0].vcpu == 3);
  CHECK(f[0].at_s == 12.5);
  CHECK(refusal({"nmi:1"}) == "--fault nmi:1: expected nmi:VCPU@AT, e.g. nmi:1@5");
  CHECK(refusal({"nmi:1@5+2"}) == "--fault nmi:1@5+2: expected nmi:VCPU@AT, e.g. nmi:1@5");
  CHECK(refusal({"nmi:-1@5"}) == "--fault nmi:-1@5: the vCPU is a whole number");
  CHECK(refusal({"nmi:1@-5"}) == "--fault nmi:1@-5: the time after '@' is seconds from VM start");
  CHECK(refusal({"nmi:5@5"}) == "--fault nmi:5@5: no vCPU 5: the topology has 4 (0..3)");
}

TEST_CASE("run --fault: guest_write parses symbol, offset, length, value (decimal or hex) and time") {
  const auto f = accepted({"guest_write:scx_watchdog_timeout=1@5", "guest_write:total_forks+0x8:4=0xff@7.5"});
  REQUIRE(f.size() == 2);
  CHECK(f[0].kind == "guest_write");
  CHECK(f[0].symbol == "scx_watchdog_timeout");
  CHECK(f[0].offset == 0);
  CHECK(f[0].length == 8);
  CHECK(f[0].value == 1);
  CHECK(f[0].at_s == 5);
  CHECK(f[0].link_address == 0);  // resolved against the kernel later
  CHECK(f[1].symbol == "total_forks");
  CHECK(f[1].offset == 8);
  CHECK(f[1].length == 4);
  CHECK(f[1].value == 255);
  CHECK(f[1].at_s == 7.5);
}

TEST_CASE("run --fault: guest_write refuses a bad shape, length, value too wide for it, and a missing time") {
  const std::string shape = "expected guest_write:SYMBOL[+OFF][:LEN]=VALUE@AT, e.g. guest_write:scx_watchdog_timeout=1@5";
  CHECK(refusal({"guest_write:jiffies=1"}) == "--fault guest_write:jiffies=1: " + shape);
  CHECK(refusal({"guest_write:jiffies@5"}) == "--fault guest_write:jiffies@5: " + shape);
  CHECK(refusal({"guest_write:jif fies=1@5"}) == "--fault guest_write:jif fies=1@5: " + shape);
  CHECK(refusal({"guest_write:jiffies,freeze=1@5"}) == "--fault guest_write:jiffies,freeze=1@5: " + shape);
  CHECK(refusal({"guest_write:jiffies:3=1@5"}) ==
        "--fault guest_write:jiffies:3=1@5: the length after ':' is 1, 2, 4 or 8 bytes");
  CHECK(refusal({"guest_write:jiffies:1=256@5"}) == "--fault guest_write:jiffies:1=256@5: 256 does not fit in 1 byte(s)");
  CHECK(refusal({"guest_write:jiffies:1=255@5"}) == "accepted");
  CHECK(refusal({"guest_write:jiffies=x@5"}) ==
        "--fault guest_write:jiffies=x@5: the value after '=' is a whole number (decimal or 0x hex)");
  CHECK(refusal({"guest_write:jiffies=-1@5"}) ==
        "--fault guest_write:jiffies=-1@5: the value after '=' is a whole number (decimal or 0x hex)");
  CHECK(refusal({"guest_write:jiffies=1@"}) == "--fault guest_write:jiffies=1@: the time after '@' is seconds from VM start");
  CHECK(refusal({"guest_write:jiffies=1@30"}) ==
        "--fault guest_write:jiffies=1@30: the time after '@' is seconds from VM start, before the run's end (30 s)");
}

namespace {

ktstr::guest_kernel::SymbolTable symbols() {
  return ktstr::guest_kernel::SymbolTable({{0xffffffff82000000ull, 'D', "total_forks"},
                                           {0xffffffff82000008ull, 'b', "scx_watchdog_timeout"},
                                           {0xffffffff82000010ull, 'D', "next_word"},
                                           {0x0000000000001000ull, 'D', "runqueues"}});
}

std::string resolved(const std::string& text) {
  auto parsed = parse_faults({text}, 2, 60);
  if (auto* r = std::get_if<Refusal>(&parsed)) return r->line;
  auto faults = std::get<std::vector<fault_event>>(parsed);
  if (auto r = resolve_fault_symbols(faults, symbols())) {
    CHECK(r->exit_code == exit_fault);
    return r->line;
  }
  return ktstr::kvm::to_hex(faults.at(0).link_address);
}

}  // namespace

TEST_CASE("run --fault: guest_write is resolved to the symbol's link-time address - unknown, per-CPU, misaligned and "
          "overlong targets are refused") {
  CHECK(resolved("guest_write:scx_watchdog_timeout=1@5") == "ffffffff82000008");
  CHECK(resolved("guest_write:total_forks+4:4=1@5") == "ffffffff82000004");
  CHECK(resolved("guest_write:no_such=1@5") ==
        "--fault guest_write:no_such=1@5: no symbol no_such in this kernel (see `ktstr-actors kernel inspect`)");
  CHECK(resolved("guest_write:runqueues=1@5") ==
        "--fault guest_write:runqueues=1@5: runqueues is a per-CPU symbol (one copy per CPU): write a global");
  CHECK(resolved("guest_write:total_forks+2:4=1@5") ==
        "--fault guest_write:total_forks+2:4=1@5: address 0xffffffff82000002 is not aligned to its length 4 (the word "
        "is stored in one access)");
  CHECK(resolved("guest_write:total_forks+8=1@5") ==
        "--fault guest_write:total_forks+8=1@5: the written bytes run past the end of total_forks");
  // Only guest_write needs the kernel's symbols.
  CHECK(faults_need_symbols(accepted({"nmi:1@1", "guest_write:x=1@2"})));
  CHECK_FALSE(faults_need_symbols(accepted({"nmi:1@1", "kick_loss:1@1+1"})));
}
