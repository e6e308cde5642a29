// The console actor seen from outside: bytes in (console_output, in any chunking), lines
// out (agent_line to the observer, kernel_panic to the vm, the tail on request, the logs).
#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "actors/console.hpp"
#include "actors/runtime_config.hpp"
#include "tests/support/cli.hpp"

using namespace ktstr;
using namespace std::chrono_literals;

namespace {

constexpr uint8_t kKernel = 1, kAgent = 2;

struct Console {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> probe;  ///< stands in for the observer and the vm
  actors::console_actor_t console;
  std::filesystem::path dir;
  std::vector<msg::agent_line> agent_lines;
  std::vector<msg::kernel_panic> panics;

  explicit Console(const std::string& name) : dir(test::scratch_dir("console-" + name)) {
    actors::configure_runtime(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    probe = std::make_unique<caf::scoped_actor>(*sys);
    auto me = caf::actor_cast<caf::actor>(*probe);
    console = sys->spawn(actors::console_actor,
                         actors::ConsoleConfig{dir / "console.log", dir / "agent.log",
                                               caf::actor_cast<actors::run_observer>(me),
                                               caf::actor_cast<actors::panic_listener>(me), {},
                                               std::chrono::steady_clock::now()});
  }
  ~Console() {
    caf::anon_send_exit(console, caf::exit_reason::user_shutdown);
    probe.reset();
  }

  void feed(uint8_t port, const std::vector<std::string>& chunks) {
    for (const auto& c : chunks) (*probe)->send(console, msg::console_output{port, c});
  }

  /// The console's tail; every line and panic it sent before the reply is collected too
  /// (same sender, same receiver: they arrived first).
  std::vector<std::string> tail() {
    std::vector<std::string> lines;
    (*probe)->request(console, 5s, msg::tail_atom::value)
        .receive([&](msg::console_tail& t) { lines = std::move(t.lines); },
                 [&](caf::error& e) { FAIL("no tail: " << caf::to_string(e)); });
    bool more = true;
    while (more)
      (*probe)->receive([&](msg::agent_line& l) { agent_lines.push_back(std::move(l)); },
                        [&](msg::kernel_panic& p) { panics.push_back(std::move(p)); },
                        caf::after(std::chrono::seconds(0)) >> [&] { more = false; });
    return lines;
  }

  std::vector<std::string> agent_texts() const {
    std::vector<std::string> out;
    for (const auto& l : agent_lines) out.push_back(l.line);
    return out;
  }

  std::string file(const char* name) const {
    std::ifstream in(dir / name, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
};

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("console: kernel lines are cut at LF across arbitrary chunks, CR dropped, the partial last line kept") {
  Console c("chunks");
  c.feed(kKernel, {"hel", "lo\r", "\nwor", "ld\n", "\n", "part", "ial"});
  CHECK(c.tail() == Lines{"hello", "world", "", "partial"});
  CHECK(c.file("console.log") == "hello\r\nworld\n\npartial");  // the log is verbatim
  CHECK(c.agent_lines.empty());
}

TEST_CASE("console: kernel lines pass the one printable filter: controls, DEL and non-ASCII become '?', tabs stay") {
  Console c("printable");
  c.feed(kKernel, {"a\x1b[31mb\tc\x01\x7f\xc3\xa9\n"});
  CHECK(c.tail() == Lines{"a?[31mb\tc" + std::string(4, '?')});
}

TEST_CASE("console: an over-long kernel line is cut into 4096-byte lines") {
  Console c("overlong-kernel");
  const std::string long_line(4096 + 10, 'x');
  c.feed(kKernel, {long_line.substr(0, 3000), long_line.substr(3000) + "\nnext\n"});
  CHECK(c.tail() == Lines{std::string(4096, 'x'), std::string(10, 'x'), "next"});
}

TEST_CASE("console: the tail keeps the last 60 kernel lines") {
  Console c("tail");
  std::string text;
  for (int i = 0; i < 70; ++i) text += "line " + std::to_string(i) + "\n";
  c.feed(kKernel, {text});
  auto tail = c.tail();
  REQUIRE(tail.size() == 60);
  CHECK(tail.front() == "line 10");
  CHECK(tail.back() == "line 69");
}

TEST_CASE("console: a kernel panic is reported once, with the lines leading up to it") {
  Console c("panic");
  std::string text;
  for (int i = 0; i < 45; ++i) text += "boot " + std::to_string(i) + "\n";
  c.feed(kKernel, {text, "Kernel panic - not sy", "ncing: Attempted to kill init!\n",
                   "Kernel panic - not syncing: again\n"});
  c.tail();
  REQUIRE(c.panics.size() == 1);
  const auto& lines = c.panics[0].lines;
  REQUIRE(lines.size() == 40);
  CHECK(lines.front() == "boot 6");
  CHECK(lines.back() == "Kernel panic - not syncing: Attempted to kill init!");
}

TEST_CASE("console: agent lines go to the observer whole, however the bytes were chunked") {
  Console c("agent");
  c.feed(kAgent, {"{\"a\"", ":1}\n{\"b\":2}\n{\"c", "\":3}\r\n", "unterminated"});
  c.tail();
  // Cut by the protocol's LineAssembler: a trailing CR goes with the newline; no newline,
  // no line (the log keeps every byte).
  CHECK(c.agent_texts() == Lines{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"});
  CHECK(c.file("agent.log") == "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\r\nunterminated");
}

TEST_CASE("console: an agent line over 1 MiB is dropped up to its newline - the next one comes through") {
  Console c("overlong-agent");
  const size_t max = actors::console_state::kAgentLineMax;
  c.feed(kAgent, {std::string(max, 'a') + "\n"});  // exactly at the bound: kept
  c.feed(kAgent, {std::string(max, 'b'), "bb", "b\nnext\n"});
  c.tail();
  REQUIRE(c.agent_lines.size() == 2);
  CHECK(c.agent_lines[0].line == std::string(max, 'a'));
  CHECK(c.agent_lines[1].line == "next");
}

TEST_CASE("console: agent bytes never reach the kernel tail, kernel bytes never the observer") {
  Console c("ports");
  c.feed(kAgent, {"agent\n"});
  c.feed(kKernel, {"kernel\n"});
  c.feed(7, {"other port\n"});
  CHECK(c.tail() == Lines{"kernel"});
  CHECK(c.agent_texts() == Lines{"agent"});
}
