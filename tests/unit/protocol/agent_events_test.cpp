#include <catch2/catch.hpp>

#include <string>

#include "apps/protocol/agent_line_assembler.hpp"
#include "apps/protocol/agent_events.hpp"
#include "tests/support/agent_lines.hpp"
#include "apps/protocol/agent_stream.hpp"

using namespace ktstr::protocol;
using ktstr::test::error_of;
using ktstr::test::event_of;

namespace {

// Lines as the real agent wrote them on COM2 (QEMU TCG, Debian 6.1, -smp 2).
const std::string kBootDone = R"({"event":"boot_done","seq":0,"uptime_s":2.28})";
const std::string kKernel =
    R"j({"event":"kernel","seq":1,"release":"6.1.0-56-amd64","version":"#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)","machine":"x86_64","cmdline":"console=ttyS0 reboot=k panic=-1","sched_ext":false})j";
const std::string kTopology =
    R"({"event":"topology","seq":2,"online":"0-1","possible":"0-1","cpus":[{"cpu":0,"package":0,"die":0,"core":0,"thread_siblings":"0","llc":"0-1","llc_level":3,"node":0},{"cpu":1,"package":0,"die":0,"core":1,"thread_siblings":"1","llc":"0-1","llc_level":3,"node":0}]})";
const std::string kPowerOff = R"({"event":"power_off","seq":3})";

std::string topology_with_cpu(const std::string& cpu_entry) {
  return R"({"event":"topology","seq":2,"online":"0","cpus":[)" + cpu_entry + "]}";
}

}  // namespace

TEST_CASE("agent lines from a real boot parse into typed events") {
  CHECK(event_of<BootDone>(kBootDone).uptime_s == Approx(2.28));

  auto kernel = event_of<KernelInfo>(kKernel);
  CHECK(kernel.seq == 1);
  CHECK(kernel.release == "6.1.0-56-amd64");
  CHECK(kernel.machine == "x86_64");
  CHECK(kernel.cmdline == "console=ttyS0 reboot=k panic=-1");
  CHECK_FALSE(kernel.sched_ext);

  auto topology = event_of<TopologyReport>(kTopology);
  CHECK(topology.online == std::vector<uint32_t>{0, 1});
  REQUIRE(topology.cpus.size() == 2);
  const auto& cpu1 = topology.cpus[1];
  CHECK(cpu1.cpu == 1);
  CHECK(cpu1.package == 0u);
  CHECK(cpu1.core_id == 1u);
  CHECK(cpu1.thread_siblings == std::vector<uint32_t>{1});
  CHECK(cpu1.llc == std::vector<uint32_t>{0, 1});
  CHECK(cpu1.llc_level == 3u);
  CHECK(cpu1.node == 0u);

  CHECK(event_of<PowerOff>(kPowerOff).seq == 3);
  CHECK(event_of<Heartbeat>(R"({"event":"heartbeat","seq":4,"uptime_s":3})").uptime_s == 3.0);
  CHECK(event_of<AgentError>(R"({"event":"agent_error","seq":5,"message":"no COM2"})").message == "no COM2");
}

TEST_CASE("null or absent per-CPU fields become empty optionals, not errors") {
  auto report = event_of<TopologyReport>(topology_with_cpu(
      R"({"cpu":0,"package":null,"die":null,"core":null,"thread_siblings":null,"llc":null,"node":null})"));
  const auto& cpu = report.cpus.at(0);
  CHECK_FALSE(cpu.package);
  CHECK_FALSE(cpu.die);
  CHECK_FALSE(cpu.core_id);
  CHECK_FALSE(cpu.thread_siblings);
  CHECK_FALSE(cpu.llc);
  CHECK_FALSE(cpu.llc_level);
  CHECK_FALSE(cpu.node);
  CHECK_FALSE(event_of<TopologyReport>(R"({"event":"topology","seq":0,"online":null,"cpus":[]})").online);
}

TEST_CASE("malformed JSON is a protocol error") {
  CHECK_THAT(error_of(kTopology.substr(0, kTopology.size() / 2)), Catch::StartsWith("invalid JSON"));
  CHECK_THAT(error_of("not json at all"), Catch::StartsWith("invalid JSON"));
  CHECK_THAT(error_of(std::string("{\"event\":\0\"x\"}", 14)), Catch::StartsWith("invalid JSON"));
  CHECK_THAT(error_of("\xff\xfe{}"), Catch::StartsWith("invalid JSON"));
  CHECK_THAT(error_of("[1,2]"), Catch::Contains("not an object"));
}

TEST_CASE("deeply nested JSON is refused before it is parsed") {
  std::string deep = R"({"event":"heartbeat","seq":0,"uptime_s":1,"x":)" + std::string(100000, '[') +
                     std::string(100000, ']') + "}";
  CHECK_THAT(error_of(deep), Catch::Contains("nested deeper"));
  // Brackets inside strings do not count as nesting.
  CHECK(event_of<AgentError>(R"({"event":"agent_error","seq":0,"message":")" + std::string(100, '[') + "\"}")
            .message.size() == 100);
}

TEST_CASE("wrong field types name the event and field") {
  CHECK(error_of(R"({"seq":0})") == "event is missing");
  CHECK(error_of(R"({"event":7,"seq":0})") == "event must be a string, got number");
  CHECK(error_of(R"({"event":"power_off","seq":"3"})") == "power_off: seq must be an unsigned integer, got string");
  CHECK(error_of(R"({"event":"power_off","seq":-1})") ==
        "power_off: seq must be an unsigned integer, got negative integer");
  CHECK(error_of(R"({"event":"power_off"})") == "power_off: seq is missing");
  CHECK(error_of(R"({"event":"boot_done","seq":0,"uptime_s":"2"})") ==
        "boot_done: uptime_s must be a number, got string");
  CHECK(error_of(R"({"event":"boot_done","seq":0,"uptime_s":-2})") ==
        "boot_done: uptime_s must be finite and not negative");
  CHECK_THAT(error_of(R"({"event":"kernel","seq":1,"release":"r","version":"v","machine":"m","sched_ext":"yes"})"),
             Catch::Contains("sched_ext must be a boolean"));
  CHECK_THAT(error_of(R"({"event":"kernel","seq":1,"version":"v","machine":"m","sched_ext":true})"),
             Catch::Contains("kernel: release is missing"));
  CHECK(error_of(R"({"event":"topology","seq":2,"online":"0","cpus":{}})") ==
        "topology: cpus must be an array, got object");
  CHECK(error_of(topology_with_cpu(R"({"cpu":0,"package":-1})")) ==
        "topology: cpus[0].package must be an unsigned integer, got negative integer");
  CHECK(error_of(topology_with_cpu(R"({"cpu":0,"core":1.5})")) ==
        "topology: cpus[0].core must be an unsigned integer, got number");
  CHECK(error_of(topology_with_cpu(R"({"cpu":0,"node":4294967296})")) ==
        "topology: cpus[0].node = 4294967296 is above 4294967295");
  CHECK(error_of(topology_with_cpu(R"({"package":0})")) == "topology: cpus[0].cpu is missing");
  CHECK(error_of(topology_with_cpu("3")) == "topology: cpus[0] must be an object, got number");
}

TEST_CASE("unknown events are protocol errors") {
  CHECK(error_of(R"({"event":"reboot_now","seq":0})") == "unknown event \"reboot_now\"");
}

TEST_CASE("cpu numbers and lists out of range or malformed are rejected") {
  CHECK(error_of(topology_with_cpu(R"({"cpu":4096})")) == "topology: cpus[0].cpu = 4096 is above 4095");
  CHECK_THAT(error_of(topology_with_cpu(R"({"cpu":0,"llc":"0-5000"})")),
             Catch::StartsWith("topology: cpus[0].llc \"0-5000\" is not a cpu list"));
  CHECK_THAT(error_of(topology_with_cpu(R"({"cpu":0,"thread_siblings":"3-1"})")),
             Catch::StartsWith("topology: cpus[0].thread_siblings \"3-1\" is not a cpu list"));
  CHECK_THAT(error_of(R"({"event":"topology","seq":2,"online":"0-","cpus":[]})"),
             Catch::StartsWith("topology: online \"0-\" is not a cpu list"));
  CHECK_THAT(error_of(R"({"event":"topology","seq":2,"online":"0,0","cpus":[]})"),
             Catch::StartsWith("topology: online \"0,0\" is not a cpu list"));
  CHECK(error_of(R"({"event":"topology","seq":2,"online":"0","cpus":[{"cpu":1},{"cpu":1}]})") ==
        "topology: cpu 1 is reported twice");
}

TEST_CASE("a report of more than 4096 CPUs is rejected") {
  std::string cpus;
  for (int i = 0; i <= 4096; ++i) cpus += (i ? ",{\"cpu\":" : "{\"cpu\":") + std::to_string(i % 4096) + "}";
  CHECK(error_of(R"({"event":"topology","seq":2,"online":"0","cpus":[)" + cpus + "]}") ==
        "topology: cpus has 4097 entries; at most 4096");
}

TEST_CASE("line assembler gives the same lines whatever the chunking") {
  const std::string stream = kBootDone + "\n" + kKernel + "\r\n\n" + kPowerOff + "\n";
  std::vector<std::string> expected{kBootDone, kKernel, kPowerOff};

  auto collect = [](LineAssembler& a, const std::vector<std::string_view>& chunks) {
    std::vector<std::string> lines;
    for (auto chunk : chunks)
      for (auto& line : a.feed(chunk)) {
        CHECK(line.fault == GuestLine::Fault::none);
        lines.push_back(line.text);
      }
    CHECK(a.finish().empty());
    return lines;
  };

  LineAssembler whole;
  CHECK(collect(whole, {stream}) == expected);

  LineAssembler bytewise;
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < stream.size(); ++i) bytes.push_back(std::string_view(stream).substr(i, 1));
  CHECK(collect(bytewise, bytes) == expected);

  LineAssembler split_in_lines;  // chunk borders inside lines and right after '\n'
  std::string_view s = stream;
  CHECK(collect(split_in_lines, {s.substr(0, 10), s.substr(10, kBootDone.size() - 10 + 1), s.substr(kBootDone.size() + 1, 7),
                                 s.substr(kBootDone.size() + 8)}) == expected);
}

TEST_CASE("line assembler drops an over-long line, reports its size and recovers") {
  LineAssembler a(1024);
  std::vector<GuestLine> lines;
  const std::string chunk(4096, 'x');
  for (int i = 0; i < 256; ++i)  // 1 MiB without a newline
    for (auto& l : a.feed(chunk)) lines.push_back(std::move(l));
  CHECK(lines.empty());
  for (auto& l : a.feed("tail\n" + kPowerOff + "\n")) lines.push_back(std::move(l));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].fault == GuestLine::Fault::overlong);
  CHECK(lines[0].bytes == 256 * 4096 + 4);
  CHECK(lines[0].text.empty());
  CHECK(lines[1].fault == GuestLine::Fault::none);
  CHECK(lines[1].text == kPowerOff);
}

TEST_CASE("line assembler reports a line cut off by the end of the stream") {
  LineAssembler a;
  CHECK(a.feed(kBootDone + "\n{\"event\":\"ker").size() == 1);
  auto rest = a.finish();
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].fault == GuestLine::Fault::unterminated);
  CHECK(rest[0].text == "{\"event\":\"ker");
}

TEST_CASE("agent stream turns a real transcript into events without errors") {
  AgentStream stream;
  auto items = stream.feed(kBootDone + "\n" + kKernel + "\n" + kTopology + "\n" + kPowerOff + "\n");
  REQUIRE(items.size() == 4);
  for (const auto& item : items) CHECK(std::holds_alternative<AgentEvent>(item));
  CHECK(event_name(std::get<AgentEvent>(items[2])) == "topology");
  CHECK(stream.finish().empty());
}

TEST_CASE("agent stream reports lost and repeated lines by seq") {
  AgentStream stream;
  auto items = stream.feed(kBootDone + "\n" + kTopology + "\n" + kTopology + "\n");
  REQUIRE(items.size() == 5);
  CHECK(std::get<ProtocolError>(items[1]).message == "topology: seq 2 where 1 was expected");
  CHECK(std::holds_alternative<AgentEvent>(items[2]));
  CHECK(std::get<ProtocolError>(items[3]).message == "topology: seq 2 where 3 was expected");
}

TEST_CASE("agent stream quotes garbage lines printably") {
  AgentStream stream;
  auto items = stream.feed(std::string("\x01\x00garbage\n", 10));
  REQUIRE(items.size() == 1);
  CHECK_THAT(std::get<ProtocolError>(items[0]).message, Catch::EndsWith("in line \"\\x01\\x00garbage\""));
}

TEST_CASE("one printable filter: controls, DEL and non-ASCII never pass, tab does") {
  CHECK(printable("ok\ttab") == "ok\ttab");
  CHECK(printable("\x1b[2Jwipe\x7f\xc3\xa9\r\n") == "?[2Jwipe" + std::string(5, '?'));
  CHECK(printable("abcdef", 3) == "abc");
  CHECK(printable_excerpt("a\tb\x01") == "a\\x09b\\x01");
  CHECK(printable_excerpt(std::string(100, 'x'), 10) == std::string(10, 'x') + "...");
}

TEST_CASE("lines cut elsewhere (the console actor) get the same seq check as a byte stream") {
  AgentStream stream;
  CHECK(stream.line(R"({"event":"heartbeat","seq":0,"uptime_s":1})").size() == 1);
  // seq 1 was dropped (an over-long line the console refused): the gap is reported.
  auto out = stream.line(R"({"event":"heartbeat","seq":2,"uptime_s":2})");
  REQUIRE(out.size() == 2);
  REQUIRE(std::holds_alternative<ProtocolError>(out[0]));
  CHECK(std::get<ProtocolError>(out[0]).message == "heartbeat: seq 2 where 1 was expected");
  CHECK(std::holds_alternative<AgentEvent>(out[1]));
}
