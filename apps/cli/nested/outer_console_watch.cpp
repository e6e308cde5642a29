#include "apps/cli/nested/outer_console_watch.hpp"

#include <fstream>

#include "apps/protocol/nested_job.hpp"

namespace ktstr::cli {

namespace {

constexpr std::size_t kMaxLine = 400;
constexpr std::size_t kMaxChunk = 1 << 20;

}  // namespace

bool is_outer_kernel_trouble(std::string_view line) {
  for (std::string_view marker : {"soft lockup", "hard LOCKUP", "rcu_preempt detected stall", "rcu_sched detected stall",
                                  "detected stalls on CPUs", "self-detected stall", "blocked for more than",
                                  "BUG:", "Oops:", "Kernel panic", "general protection fault"})
    if (line.find(marker) != std::string_view::npos) return true;
  return false;
}

std::optional<unsigned> soft_lockup_seconds(std::string_view line) {
  constexpr std::string_view kMarker = "soft lockup - CPU#";
  auto at = line.find(kMarker);
  if (at == std::string_view::npos) return std::nullopt;
  auto stuck = line.find(" stuck for ", at);
  if (stuck == std::string_view::npos) return std::nullopt;
  unsigned seconds = 0;
  bool digits = false;
  for (std::size_t i = stuck + 11; i < line.size() && line[i] >= '0' && line[i] <= '9' && seconds < 1000000; ++i) {
    seconds = seconds * 10 + static_cast<unsigned>(line[i] - '0');
    digits = true;
  }
  return digits ? std::optional(seconds) : std::nullopt;
}

void OuterConsoleWatch::check_silence(std::chrono::steady_clock::time_point now, unsigned silent_s) {
  if (offset_ != seen_offset_) {
    seen_offset_ = offset_;
    last_growth_ = now;
    return;
  }
  if (!broken_ && now - last_growth_ >= std::chrono::seconds(silent_s))
    broken_ = "no output at all on its console for " + std::to_string(silent_s) + " s (it says \"alive\" every " +
              std::to_string(nested::kAliveIntervalS) + " s)";
}

std::vector<std::string> OuterConsoleWatch::poll() {
  std::vector<std::string> found;
  std::ifstream in(log_, std::ios::binary);
  if (!in) return found;
  in.seekg(static_cast<std::streamoff>(offset_));
  std::string chunk(kMaxChunk, '\0');
  in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  chunk.resize(static_cast<std::size_t>(in.gcount()));
  offset_ += chunk.size();
  partial_ += chunk;
  std::size_t start = 0;
  for (auto nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n', start)) {
    std::string_view line(partial_.data() + start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (is_outer_kernel_trouble(line)) {
      if (!broken_) {
        auto stuck = soft_lockup_seconds(line);
        if ((stuck && *stuck >= wedge_after_s_) || line.find("Kernel panic") != std::string_view::npos)
          broken_ = std::string(line.substr(0, kMaxLine));
      }
      ++trouble_;
      if (trouble_ <= max_reports_) found.emplace_back(line.substr(0, kMaxLine));
    }
    start = nl + 1;
  }
  partial_.erase(0, start);
  if (partial_.size() > kMaxLine) partial_.erase(0, partial_.size() - kMaxLine);  // a huge unterminated line
  return found;
}

}  // namespace ktstr::cli
