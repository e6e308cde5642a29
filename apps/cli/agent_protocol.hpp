#pragma once
// The guest agent's reports as typed events. Each COM2 line is one JSON object with
// "event" and "seq"; everything in it is untrusted and checked here, so code past
// the parser can rely on types and bounds.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ktstr::cli {

struct BootDone {
  uint64_t seq = 0;
  double uptime_s = 0;
};

struct KernelInfo {
  uint64_t seq = 0;
  std::string release, version, machine;
  std::optional<std::string> cmdline;
  bool sched_ext = false;  ///< /sys/kernel/sched_ext exists in the guest
};

/// One online CPU as the guest kernel sees it; a field is empty when the guest
/// could not read it.
struct ObservedCpu {
  uint32_t cpu = 0;
  std::optional<uint32_t> package, die, core_id;
  std::optional<std::vector<uint32_t>> thread_siblings;
  std::optional<std::vector<uint32_t>> llc;  ///< CPUs sharing the last-level cache
  std::optional<uint32_t> llc_level;         ///< 3 unless the CPU has no L3
  std::optional<uint32_t> node;
};

struct TopologyReport {
  uint64_t seq = 0;
  std::optional<std::vector<uint32_t>> online, possible;
  std::vector<ObservedCpu> cpus;  ///< sorted by cpu, no duplicates
};

struct PowerOff {
  uint64_t seq = 0;
};

struct Heartbeat {
  uint64_t seq = 0;
  double uptime_s = 0;
};

struct AgentError {
  uint64_t seq = 0;
  std::string message;
};

using AgentEvent = std::variant<BootDone, KernelInfo, TopologyReport, PowerOff, Heartbeat, AgentError>;

/// Why a line is not a valid event; the message names the event and field.
struct ProtocolError {
  std::string message;
};

using ParsedLine = std::variant<AgentEvent, ProtocolError>;

/// Bounds on what the guest may claim.
inline constexpr uint32_t kMaxReportedCpus = 4096;
inline constexpr int kMaxJsonDepth = 16;

/// Parses one line (without '\n'). Never throws.
ParsedLine parse_agent_line(std::string_view line);

uint64_t event_seq(const AgentEvent& event);
std::string_view event_name(const AgentEvent& event);

/// A short printable excerpt of untrusted text for error messages.
std::string printable_excerpt(std::string_view text, std::size_t max_chars = 80);

}  // namespace ktstr::cli
