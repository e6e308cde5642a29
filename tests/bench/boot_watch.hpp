#pragma once
// Watches a serial output file that a VMM is writing for the agent's boot_done line.
// The file's content comes from the guest and is untrusted: reads are bounded per poll
// and in total, and lines are cut by the CLI's bounded LineAssembler.
#include <cstddef>
#include <filesystem>
#include <optional>

#include "apps/protocol/agent_line_assembler.hpp"

namespace ktstr::bench {

struct BootDone {
  std::optional<double> guest_uptime_s;  ///< what the agent reported, if it was a number
};

class BootWatch {
 public:
  /// console: the stream is the kernel console (COM1), where the agent's line can sit
  /// among kernel messages; otherwise every line must be a whole JSON object (COM2).
  BootWatch(std::filesystem::path path, bool console) : path_(std::move(path)), console_(console) {}
  ~BootWatch();
  BootWatch(const BootWatch&) = delete;
  BootWatch& operator=(const BootWatch&) = delete;

  /// Reads what was appended since the last call; the boot_done line once it is there.
  std::optional<BootDone> poll();

  /// The guest wrote more than we are willing to read before boot_done.
  bool exhausted() const { return total_ >= kMaxTotalBytes; }

 private:
  static constexpr std::size_t kChunkBytes = 64 * 1024;       // per read
  static constexpr std::size_t kMaxTotalBytes = 16 << 20;     // per file and boot
  static constexpr std::size_t kMaxLineBytes = 64 * 1024;     // boot_done is ~60 bytes

  std::optional<BootDone> check_line(const std::string& line) const;

  std::filesystem::path path_;
  bool console_;
  int fd_ = -1;
  std::size_t total_ = 0;
  protocol::LineAssembler lines_{kMaxLineBytes};
};

}  // namespace ktstr::bench
