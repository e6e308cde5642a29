#pragma once
// The guest agent's reports as typed events (docs/scenario-protocol.md): the one
// definition, with the agent's writer (to_json) and the host's parser (parse_agent_line).
// Each COM2 line is one JSON object with "event" and "seq"; on the host everything in it
// is untrusted and checked by the parser, so code past it can rely on types and bounds.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/protocol/printable.hpp"  // printable_excerpt, for the parser's users

namespace ktstr::protocol {

struct BootDone {
  uint64_t seq = 0;
  double uptime_s = 0;

  bool operator==(const BootDone&) const = default;
};

struct KernelInfo {
  uint64_t seq = 0;
  std::string release, version, machine;
  std::optional<std::string> cmdline;
  bool sched_ext = false;  ///< /sys/kernel/sched_ext exists in the guest

  bool operator==(const KernelInfo&) const = default;
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

  bool operator==(const ObservedCpu&) const = default;
};

struct TopologyReport {
  uint64_t seq = 0;
  std::optional<std::vector<uint32_t>> online, possible;
  std::vector<ObservedCpu> cpus;  ///< sorted by cpu, no duplicates

  bool operator==(const TopologyReport&) const = default;
};

struct PowerOff {
  uint64_t seq = 0;

  bool operator==(const PowerOff&) const = default;
};

struct Heartbeat {
  uint64_t seq = 0;
  double uptime_s = 0;

  bool operator==(const Heartbeat&) const = default;
};

struct AgentError {
  uint64_t seq = 0;
  std::string message;

  bool operator==(const AgentError&) const = default;
};

// ---- Scenario events (docs/scenario-protocol.md). Times in ms since t0 unless named
// otherwise; every number is finite, counts and CPU ids are unsigned integers.

enum class SchedulerState { started, enabled, enable_timeout, died, ejected, unsupported, stopped };
std::string_view scheduler_state_name(SchedulerState state);

/// The scheduler under test changed state. Which optional fields are present depends on
/// the state; `at_ms` is required for died/ejected/stopped, `after_ms` for
/// enabled/enable_timeout, everything else is optional.
struct SchedulerEvent {
  uint64_t seq = 0;
  SchedulerState state = SchedulerState::started;
  std::optional<uint32_t> pid;
  std::optional<std::string> path;
  std::optional<double> after_ms;  ///< since the scheduler's start, >= 0
  std::optional<double> at_ms;     ///< since t0; negative before it
  std::optional<std::string> ops, sched_ext_state, status, reason;
  std::vector<std::string> output;  ///< last lines of its stdout/stderr (absent = empty)

  bool operator==(const SchedulerEvent&) const = default;
};

struct ScenarioStarted {
  uint64_t seq = 0;
  std::string name;
  uint32_t workers = 0;
  std::vector<uint32_t> usable_cpus;
  double uptime_s = 0;

  bool operator==(const ScenarioStarted&) const = default;
};

struct StepEvent {
  uint64_t seq = 0;
  uint32_t index = 0;
  double at_ms = 0, planned_ms = 0;
  std::vector<std::string> errors;

  bool operator==(const StepEvent&) const = default;
};

struct WakeLatency {
  uint64_t count = 0;
  double p50_us = 0, p99_us = 0, max_us = 0;

  bool operator==(const WakeLatency&) const = default;
};

struct SchedStat {
  uint64_t run_ns = 0, wait_ns = 0, timeslices = 0;

  bool operator==(const SchedStat&) const = default;
};

struct IsolationReport {
  uint64_t violations = 0;
  std::optional<uint32_t> first_cpu;
  std::optional<double> first_at_ms;
  std::optional<std::vector<uint32_t>> first_allowed;

  bool operator==(const IsolationReport&) const = default;
};

enum class WorkerExit { ok, killed, error };

struct WorkerReport {
  uint64_t seq = 0;
  uint32_t id = 0;
  std::string name, cgroup, type;
  uint32_t pid = 0;
  double started_ms = 0, stopped_ms = 0;
  uint64_t work_units = 0;
  double cpu_ms = 0, wall_ms = 0, off_cpu_ms = 0;
  uint64_t migrations = 0;
  std::vector<uint32_t> cpus_used;
  double max_gap_ms = 0;
  std::optional<double> max_gap_at_ms;  ///< null/absent: the worker saw no gap
  std::optional<uint32_t> max_gap_cpu;
  std::optional<WakeLatency> wake_latency_us;
  std::optional<SchedStat> schedstat;
  IsolationReport isolation;
  WorkerExit exit = WorkerExit::ok;
  std::string exit_text;  ///< as sent: "ok", "killed", "error: <why>"

  bool operator==(const WorkerReport&) const = default;
};

/// A payload of the plan ended (or could not start). Times since t0.
struct PayloadReport {
  uint64_t seq = 0;
  uint32_t id = 0;
  std::string name;
  std::optional<uint32_t> pid;          ///< absent: it never started
  double started_ms = 0, ended_ms = 0;
  std::optional<uint32_t> exit_code;    ///< 0..255 when it exited
  std::optional<uint32_t> signal;       ///< 1..64 when a signal ended it
  bool stopped = false;                 ///< the agent ended it: the scenario's end or the host's stop
  std::optional<std::string> error;     ///< why it could not start
  std::vector<std::string> output;      ///< the last lines of its stdout and stderr

  bool operator==(const PayloadReport&) const = default;
};

struct ScenarioDone {
  uint64_t seq = 0;
  double wall_ms = 0;
  std::vector<std::string> errors;

  bool operator==(const ScenarioDone&) const = default;
};

using AgentEvent = std::variant<BootDone, KernelInfo, TopologyReport, PowerOff, Heartbeat, AgentError,
                                SchedulerEvent, ScenarioStarted, StepEvent, WorkerReport, PayloadReport,
                                ScenarioDone>;

/// Why a line is not a valid event; the message names the event and field.
struct ProtocolError {
  std::string message;
};

using ParsedLine = std::variant<AgentEvent, ProtocolError>;

/// Bounds on what the guest may claim.
inline constexpr uint32_t kMaxReportedCpus = 4096;
inline constexpr int kMaxJsonDepth = 16;
/// Bounds on scenario events: list entries and string bytes.
inline constexpr std::size_t kMaxListEntries = 4096;
inline constexpr std::size_t kMaxStringBytes = 4096;

/// Parses one line (without '\n'). Never throws.
ParsedLine parse_agent_line(std::string_view line);

uint64_t event_seq(const AgentEvent& event);
std::string_view event_name(const AgentEvent& event);

/// The event's fields, without "event" and "seq".
nlohmann::ordered_json event_fields(const AgentEvent& event);
/// A worker report's fields (the host's report writes the same, plus what it knows).
nlohmann::ordered_json worker_report_fields(const WorkerReport& report);
/// The whole line: "event", "seq" (`seq`: the agent's channel numbers its lines), then the
/// fields.
nlohmann::ordered_json to_json(const AgentEvent& event, uint64_t seq);
/// As above with the event's own seq: parse_agent_line(to_json(e).dump()) gives e back.
nlohmann::ordered_json to_json(const AgentEvent& event);


}  // namespace ktstr::protocol
