// A message no handler matches is logged (warn) and dropped, in event-based actors (also
// typed ones reached through an unchecked handle) and in blocking receives.
#include <catch2/catch.hpp>

#include <caf/all.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <sstream>
#include <string>

#include "actors/interfaces.hpp"
#include "actors/runtime_config.hpp"
#include "actors/unexpected.hpp"
#include "actors/watchdog.hpp"
#include "messages/messages.hpp"

using namespace ktstr;
using namespace std::chrono_literals;

namespace {

/// Captures what the default logger writes while it lives.
struct LogCapture {
  std::ostringstream text;
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  LogCapture() {
    auto logger = std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(text));
    logger->set_pattern("%l %v");
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous); }
};

}  // namespace

TEST_CASE("unexpected: an event-based actor logs an unmatched message, answers a request with an error, and goes on") {
  LogCapture log;
  caf::actor_system_config cfg;
  caf::actor_system sys{actors::configure_runtime(cfg)};
  caf::scoped_actor self{sys};
  actors::WatchdogConfig wd;
  wd.run_deadline = std::chrono::hours(1);
  auto watchdog = sys.spawn(actors::watchdog_actor, wd);
  // Only an unchecked handle lets a wrong message through to a typed actor.
  auto unchecked = caf::actor_cast<caf::actor>(watchdog);
  caf::error got;
  self->request(unchecked, 5s, msg::thaw{7}).receive([] { FAIL("the watchdog answered a thaw"); },
                                                     [&](caf::error& e) { got = e; });
  CHECK(got == caf::sec::unexpected_message);
  CHECK(log.text.str().find("warning watchdog: unexpected message") != std::string::npos);
  CHECK(log.text.str().find("thaw") != std::string::npos);
  self->send_exit(watchdog, caf::exit_reason::user_shutdown);
}

TEST_CASE("unexpected: a blocking receive logs and drops an unmatched message instead of keeping it queued") {
  LogCapture log;
  caf::actor_system_config cfg;
  caf::actor_system sys{actors::configure_runtime(cfg)};
  caf::scoped_actor self{sys};
  self->send(self, msg::thaw{3});
  self->send(self, msg::stop_atom::value);
  bool stopped = false;
  for (int i = 0; i < 2; ++i)
    self->receive([&](msg::stop_atom) { stopped = true; }, actors::unexpected_in(&*self, "probe"),
                  caf::after(std::chrono::seconds(1)) >> [] {});
  CHECK(stopped);
  // Neither the thaw nor an error about it (the sender of a plain send gets none) is left.
  bool left = false;
  self->receive([&](msg::thaw&) { left = true; }, [&](caf::error&) { left = true; },
                caf::after(std::chrono::seconds(0)) >> [] {});
  CHECK_FALSE(left);
  CHECK(log.text.str().find("warning probe: unexpected message") != std::string::npos);
}

TEST_CASE("unexpected: a request a blocking actor does not handle is answered with an error") {
  LogCapture log;
  caf::actor_system_config cfg;
  caf::actor_system sys{actors::configure_runtime(cfg)};
  auto blocking = sys.spawn([](caf::blocking_actor* self) {
    bool running = true;
    while (running)
      self->receive([&](msg::stop_atom) { running = false; }, actors::unexpected_in(self, "blocking probe"));
  });
  caf::scoped_actor self{sys};
  caf::error got;
  self->request(blocking, 5s, msg::thaw{1}).receive([] { FAIL("answered a thaw"); }, [&](caf::error& e) { got = e; });
  CHECK(got == caf::sec::unexpected_message);
  CHECK(log.text.str().find("warning blocking probe: unexpected message") != std::string::npos);
  self->send(blocking, msg::stop_atom::value);
}
