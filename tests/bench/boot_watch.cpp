#include "boot_watch.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <nlohmann/json.hpp>

namespace ktstr::bench {

BootWatch::~BootWatch() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<BootDone> BootWatch::poll() {
  // The VMM creates the file some time after it starts: keep trying to open it.
  if (fd_ < 0) fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd_ < 0) return std::nullopt;
  char buf[kChunkBytes];
  // Drain what is there now, but never more than the total bound.
  while (total_ < kMaxTotalBytes) {
    const std::size_t want = std::min(sizeof buf, kMaxTotalBytes - total_);
    ssize_t n = ::read(fd_, buf, want);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of what was written so far (a regular file never blocks)
    total_ += static_cast<std::size_t>(n);
    for (const auto& line : lines_.feed(std::string_view(buf, static_cast<std::size_t>(n)))) {
      if (line.fault != protocol::GuestLine::Fault::none) continue;
      if (auto done = check_line(line.text)) return done;
    }
  }
  return std::nullopt;
}

std::optional<BootDone> BootWatch::check_line(const std::string& line) const {
  std::string_view text = line;
  if (console_) {
    // On the console the agent's line may follow kernel output on the same line.
    auto at = text.find("{\"event\":");
    if (at == std::string_view::npos) return std::nullopt;
    text.remove_prefix(at);
  }
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::nullopt;
  auto event = json.find("event");
  if (event == json.end() || !event->is_string() || event->get<std::string>() != "boot_done") return std::nullopt;
  BootDone done;
  auto uptime = json.find("uptime_s");
  if (uptime != json.end() && uptime->is_number()) done.guest_uptime_s = uptime->get<double>();
  return done;
}

}  // namespace ktstr::bench
