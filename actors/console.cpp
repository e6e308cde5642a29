#include "actors/console.hpp"

#include <spdlog/spdlog.h>

#include "actors/unexpected.hpp"
#include "apps/protocol/printable.hpp"

namespace ktstr::actors {

namespace {

using state_ptr = console_actor_t::stateful_pointer<console_state>;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Console text is shown to users: anything but printable text (escape sequences,
// garbage) becomes '?' (apps/protocol/printable.hpp).
void kernel_line(state_ptr self, std::string_view raw) {
  auto& s = self->state;
  while (!raw.empty() && (raw.back() == '\r' || raw.back() == '\n')) raw.remove_suffix(1);
  std::string line = protocol::printable(raw);
  s.tail.push_back(line);
  if (s.tail.size() > console_state::kTailLines) s.tail.pop_front();
  if (!s.panicked && line.find("Kernel panic - not syncing") != std::string::npos) {
    s.panicked = true;
    const size_t n = std::min(s.tail.size(), console_state::kPanicContext);
    std::vector<std::string> lines(s.tail.end() - static_cast<long>(n), s.tail.end());
    self->send(s.config.vm, msg::kernel_panic{std::move(lines), seconds_since(s.config.start)});
  }
}

void on_kernel_bytes(state_ptr self, const std::string& bytes) {
  auto& s = self->state;
  s.kernel_log.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  s.kernel_log.flush();  // evidence must survive a hung or killed run
  for (char c : bytes) {
    if (c == '\n' || s.kernel_partial.size() >= console_state::kKernelLineMax) {
      kernel_line(self, s.kernel_partial);
      s.kernel_partial.clear();
      if (c == '\n') continue;
    }
    s.kernel_partial.push_back(c);
  }
}

void on_agent_bytes(state_ptr self, const std::string& bytes) {
  auto& s = self->state;
  s.agent_log.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  s.agent_log.flush();
  for (auto& line : s.agent_lines.feed(bytes)) {
    if (line.fault == protocol::GuestLine::Fault::overlong)  // the seq check shows the gap it leaves
      spdlog::warn("agent sent a line of {} bytes, over {}; dropped", line.bytes, console_state::kAgentLineMax);
    else
      self->send(s.config.observer, msg::agent_line{std::move(line.text), seconds_since(s.config.start)});
  }
}

}  // namespace

console_actor_t::behavior_type console_actor(console_actor_t::stateful_pointer<console_state> self,
                                             ConsoleConfig config) {
  self->set_default_handler(log_unexpected);
  auto& s = self->state;
  s.config = std::move(config);
  s.kernel_log.open(s.config.kernel_log, std::ios::binary | std::ios::trunc);
  s.agent_log.open(s.config.agent_log, std::ios::binary | std::ios::trunc);
  if (!s.kernel_log) spdlog::warn("cannot write console log {}", s.config.kernel_log.string());
  return {
      [=](msg::console_output& out) {
        auto& st = self->state;
        const auto now = std::chrono::steady_clock::now();
        if (st.config.watchdog && now - st.last_progress_sent >= std::chrono::milliseconds(100)) {
          st.last_progress_sent = now;  // rate-limited: a chatty guest must not flood the watchdog
          self->send(st.config.watchdog, msg::progress{seconds_since(st.config.start)});
        }
        if (out.port == 1) on_kernel_bytes(self, out.bytes);
        else if (out.port == 2) on_agent_bytes(self, out.bytes);
      },
      // Final tail, including a partial last line (a panic rarely ends in '\n' before reset).
      [=](msg::tail_atom) -> msg::console_tail {
        auto& st = self->state;
        if (!st.kernel_partial.empty()) {
          kernel_line(self, st.kernel_partial);
          st.kernel_partial.clear();
        }
        st.kernel_log.flush();
        st.agent_log.flush();
        return msg::console_tail{{st.tail.begin(), st.tail.end()}};
      },
  };
}

}  // namespace ktstr::actors
