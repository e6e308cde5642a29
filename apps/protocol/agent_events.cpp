#include "apps/protocol/agent_events.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <utility>

#include <nlohmann/json.hpp>

#include "kvm/cpu_list.hpp"

namespace ktstr::protocol {

namespace {

using nlohmann::json;

// Field checks below throw this; parse_agent_line turns it into a ProtocolError.
struct FieldError {
  std::string message;
};

[[noreturn]] void fail(std::string message) { throw FieldError{std::move(message)}; }

std::string type_of(const json& value) {
  if (value.is_number_integer() && !value.is_number_unsigned()) return "negative integer";
  return value.type_name();
}

// nlohmann's parser is iterative, but nested values are destroyed recursively;
// refusing deep nesting before parsing keeps a hostile line from using the stack.
bool nesting_within(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

/// A key that may be absent or null: both mean the guest could not read it.
const json* optional_field(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

const json& required_field(const json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) fail(where + key + " is missing");
  return *it;
}

uint64_t unsigned_value(const json& value, uint64_t max, const std::string& name) {
  if (!value.is_number_unsigned()) fail(name + " must be an unsigned integer, got " + type_of(value));
  auto v = value.get<uint64_t>();
  if (v > max) fail(name + " = " + std::to_string(v) + " is above " + std::to_string(max));
  return v;
}

uint64_t required_u64(const json& object, const char* key, const std::string& where) {
  return unsigned_value(required_field(object, key, where), std::numeric_limits<uint64_t>::max(), where + key);
}

std::optional<uint32_t> optional_u32(const json& object, const char* key, const std::string& where) {
  const json* value = optional_field(object, key);
  if (!value) return std::nullopt;
  return static_cast<uint32_t>(unsigned_value(*value, std::numeric_limits<uint32_t>::max(), where + key));
}

// Every string from the guest is bounded (kMaxStringBytes), whatever it names.
std::string string_value(const json& value, const std::string& name) {
  if (!value.is_string()) fail(name + " must be a string, got " + type_of(value));
  std::string text = value.get<std::string>();
  if (text.size() > kMaxStringBytes)
    fail(name + " has " + std::to_string(text.size()) + " bytes; at most " + std::to_string(kMaxStringBytes));
  return text;
}

std::string required_string(const json& object, const char* key, const std::string& where) {
  return string_value(required_field(object, key, where), where + key);
}

std::optional<std::string> optional_string(const json& object, const char* key, const std::string& where) {
  const json* value = optional_field(object, key);
  if (!value) return std::nullopt;
  return string_value(*value, where + key);
}

double required_seconds(const json& object, const char* key, const std::string& where) {
  const json& value = required_field(object, key, where);
  if (!value.is_number()) fail(where + key + " must be a number, got " + type_of(value));
  double seconds = value.get<double>();
  if (!std::isfinite(seconds) || seconds < 0) fail(where + key + " must be finite and not negative");
  return seconds;
}

std::optional<std::vector<uint32_t>> optional_cpu_list(const json& object, const char* key,
                                                       const std::string& where) {
  auto text = optional_string(object, key, where);
  if (!text) return std::nullopt;
  auto cpus = kvm::parse_cpu_list(*text, kMaxReportedCpus - 1);
  if (!cpus) fail(where + key + " \"" + printable_excerpt(*text) + "\" is not a cpu list of cpus below " +
                  std::to_string(kMaxReportedCpus));
  return cpus;
}

ObservedCpu parse_observed_cpu(const json& entry, const std::string& where) {
  if (!entry.is_object()) fail(where + " must be an object, got " + type_of(entry));
  const std::string at = where + ".";
  ObservedCpu cpu;
  cpu.cpu = static_cast<uint32_t>(
      unsigned_value(required_field(entry, "cpu", at), kMaxReportedCpus - 1, at + "cpu"));
  cpu.package = optional_u32(entry, "package", at);
  cpu.die = optional_u32(entry, "die", at);
  cpu.core_id = optional_u32(entry, "core", at);
  cpu.thread_siblings = optional_cpu_list(entry, "thread_siblings", at);
  cpu.llc = optional_cpu_list(entry, "llc", at);
  cpu.llc_level = optional_u32(entry, "llc_level", at);
  cpu.node = optional_u32(entry, "node", at);
  return cpu;
}

TopologyReport parse_topology(const json& line, uint64_t seq) {
  const std::string at = "topology: ";
  TopologyReport report{seq, optional_cpu_list(line, "online", at), optional_cpu_list(line, "possible", at), {}};
  const json& cpus = required_field(line, "cpus", at);
  if (!cpus.is_array()) fail(at + "cpus must be an array, got " + type_of(cpus));
  if (cpus.size() > kMaxReportedCpus)
    fail(at + "cpus has " + std::to_string(cpus.size()) + " entries; at most " + std::to_string(kMaxReportedCpus));
  for (std::size_t i = 0; i < cpus.size(); ++i)
    report.cpus.push_back(parse_observed_cpu(cpus[i], at + "cpus[" + std::to_string(i) + "]"));
  std::sort(report.cpus.begin(), report.cpus.end(), [](auto& a, auto& b) { return a.cpu < b.cpu; });
  auto dup = std::adjacent_find(report.cpus.begin(), report.cpus.end(),
                                [](auto& a, auto& b) { return a.cpu == b.cpu; });
  if (dup != report.cpus.end()) fail(at + "cpu " + std::to_string(dup->cpu) + " is reported twice");
  return report;
}

// ---- Scenario events -------------------------------------------------------------

double number_value(const json& value, const std::string& name, bool may_be_negative) {
  if (!value.is_number()) fail(name + " must be a number, got " + type_of(value));
  double v = value.get<double>();
  if (!std::isfinite(v)) fail(name + " must be finite");
  if (!may_be_negative && v < 0) fail(name + " must not be negative");
  return v;
}

double required_ms(const json& object, const char* key, const std::string& where, bool may_be_negative = false) {
  return number_value(required_field(object, key, where), where + key, may_be_negative);
}

std::optional<double> optional_ms(const json& object, const char* key, const std::string& where,
                                  bool may_be_negative = false) {
  const json* value = optional_field(object, key);
  if (!value) return std::nullopt;
  return number_value(*value, where + key, may_be_negative);
}

uint32_t required_u32(const json& object, const char* key, const std::string& where) {
  return static_cast<uint32_t>(
      unsigned_value(required_field(object, key, where), std::numeric_limits<uint32_t>::max(), where + key));
}

const json& bounded_array(const json& value, const std::string& name) {
  if (!value.is_array()) fail(name + " must be an array, got " + type_of(value));
  if (value.size() > kMaxListEntries)
    fail(name + " has " + std::to_string(value.size()) + " entries; at most " + std::to_string(kMaxListEntries));
  return value;
}

/// A JSON array of CPU ids (unsigned, below kMaxReportedCpus).
std::vector<uint32_t> cpu_array(const json& value, const std::string& name) {
  const json& list = bounded_array(value, name);
  std::vector<uint32_t> cpus;
  cpus.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i)
    cpus.push_back(static_cast<uint32_t>(
        unsigned_value(list[i], kMaxReportedCpus - 1, name + "[" + std::to_string(i) + "]")));
  return cpus;
}

std::optional<uint32_t> optional_cpu(const json& object, const char* key, const std::string& where) {
  const json* value = optional_field(object, key);
  if (!value) return std::nullopt;
  return static_cast<uint32_t>(unsigned_value(*value, kMaxReportedCpus - 1, where + key));
}

std::vector<std::string> string_array(const json& value, const std::string& name) {
  const json& list = bounded_array(value, name);
  std::vector<std::string> out;
  out.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i)
    out.push_back(string_value(list[i], name + "[" + std::to_string(i) + "]"));
  return out;
}

const json& required_object(const json& object, const char* key, const std::string& where) {
  const json& value = required_field(object, key, where);
  if (!value.is_object()) fail(where + key + " must be an object, got " + type_of(value));
  return value;
}

const json* optional_object(const json& object, const char* key, const std::string& where) {
  const json* value = optional_field(object, key);
  if (value && !value->is_object()) fail(where + key + " must be an object, got " + type_of(*value));
  return value;
}

SchedulerEvent parse_scheduler(const json& line, uint64_t seq) {
  const std::string at = "scheduler: ";
  static constexpr std::pair<std::string_view, SchedulerState> kStates[] = {
      {"started", SchedulerState::started},         {"enabled", SchedulerState::enabled},
      {"enable_timeout", SchedulerState::enable_timeout}, {"died", SchedulerState::died},
      {"ejected", SchedulerState::ejected},         {"unsupported", SchedulerState::unsupported},
      {"stopped", SchedulerState::stopped}};
  std::string state = required_string(line, "state", at);
  SchedulerEvent event;
  event.seq = seq;
  auto found = std::find_if(std::begin(kStates), std::end(kStates), [&](auto& s) { return s.first == state; });
  if (found == std::end(kStates)) fail(at + "unknown state \"" + printable_excerpt(state) + "\"");
  event.state = found->second;
  event.pid = optional_u32(line, "pid", at);
  event.path = optional_string(line, "path", at);
  event.after_ms = optional_ms(line, "after_ms", at);
  event.at_ms = optional_ms(line, "at_ms", at, /*may_be_negative=*/true);
  event.ops = optional_string(line, "ops", at);
  event.sched_ext_state = optional_string(line, "sched_ext_state", at);
  event.status = optional_string(line, "status", at);
  event.reason = optional_string(line, "reason", at);
  if (const json* output = optional_field(line, "output")) event.output = string_array(*output, at + "output");
  switch (event.state) {
    case SchedulerState::died:
    case SchedulerState::ejected:
    case SchedulerState::stopped:
      if (!event.at_ms) fail(at + state + ": at_ms is missing");
      break;
    case SchedulerState::enabled:
    case SchedulerState::enable_timeout:
      if (!event.after_ms) fail(at + state + ": after_ms is missing");
      break;
    default:
      break;
  }
  return event;
}

ScenarioStarted parse_scenario_started(const json& line, uint64_t seq) {
  const std::string at = "scenario_started: ";
  ScenarioStarted event;
  event.seq = seq;
  event.name = required_string(line, "name", at);
  event.workers = static_cast<uint32_t>(
      unsigned_value(required_field(line, "workers", at), kMaxListEntries, at + "workers"));
  event.usable_cpus = cpu_array(required_field(line, "usable_cpus", at), at + "usable_cpus");
  event.uptime_s = required_seconds(line, "uptime_s", at);
  return event;
}

StepEvent parse_step(const json& line, uint64_t seq) {
  const std::string at = "step: ";
  StepEvent event;
  event.seq = seq;
  event.index = static_cast<uint32_t>(
      unsigned_value(required_field(line, "index", at), kMaxListEntries - 1, at + "index"));
  event.at_ms = required_ms(line, "at_ms", at);
  event.planned_ms = required_ms(line, "planned_ms", at);
  event.errors = string_array(required_field(line, "errors", at), at + "errors");
  return event;
}

WorkerReport parse_worker_report(const json& line, uint64_t seq) {
  const std::string at = "worker_report: ";
  WorkerReport r;
  r.seq = seq;
  r.id = required_u32(line, "id", at);
  r.name = required_string(line, "name", at);
  r.cgroup = required_string(line, "cgroup", at);
  r.type = required_string(line, "type", at);
  r.pid = required_u32(line, "pid", at);
  r.started_ms = required_ms(line, "started_ms", at);
  r.stopped_ms = required_ms(line, "stopped_ms", at);
  r.work_units = required_u64(line, "work_units", at);
  r.cpu_ms = required_ms(line, "cpu_ms", at);
  r.wall_ms = required_ms(line, "wall_ms", at);
  r.off_cpu_ms = required_ms(line, "off_cpu_ms", at);
  r.migrations = required_u64(line, "migrations", at);
  r.cpus_used = cpu_array(required_field(line, "cpus_used", at), at + "cpus_used");
  r.max_gap_ms = required_ms(line, "max_gap_ms", at);
  r.max_gap_at_ms = optional_ms(line, "max_gap_at_ms", at);
  r.max_gap_cpu = optional_cpu(line, "max_gap_cpu", at);
  if (const json* w = optional_object(line, "wake_latency_us", at)) {
    const std::string in = at + "wake_latency_us.";
    r.wake_latency_us = WakeLatency{required_u64(*w, "count", in), required_ms(*w, "p50", in),
                                    required_ms(*w, "p99", in), required_ms(*w, "max", in)};
  }
  if (const json* s = optional_object(line, "schedstat", at)) {
    const std::string in = at + "schedstat.";
    r.schedstat = SchedStat{required_u64(*s, "run_ns", in), required_u64(*s, "wait_ns", in),
                            required_u64(*s, "timeslices", in)};
  }
  {
    const json& iso = required_object(line, "isolation", at);
    const std::string in = at + "isolation.";
    r.isolation.violations = required_u64(iso, "violations", in);
    r.isolation.first_cpu = optional_cpu(iso, "first_cpu", in);
    r.isolation.first_at_ms = optional_ms(iso, "first_at_ms", in);
    if (const json* allowed = optional_field(iso, "first_allowed"))
      r.isolation.first_allowed = cpu_array(*allowed, in + "first_allowed");
  }
  r.exit_text = required_string(line, "exit", at);
  if (r.exit_text == "ok") r.exit = WorkerExit::ok;
  else if (r.exit_text == "killed") r.exit = WorkerExit::killed;
  else if (r.exit_text.rfind("error", 0) == 0) r.exit = WorkerExit::error;
  else fail(at + "exit \"" + printable_excerpt(r.exit_text) + "\" is not ok, killed or error: <why>");
  return r;
}

PayloadReport parse_payload(const json& line, uint64_t seq) {
  const std::string at = "payload: ";
  PayloadReport r;
  r.seq = seq;
  r.id = required_u32(line, "id", at);
  r.name = required_string(line, "name", at);
  r.pid = optional_u32(line, "pid", at);
  r.started_ms = required_ms(line, "started_ms", at);
  r.ended_ms = required_ms(line, "ended_ms", at);
  if (const json* v = optional_field(line, "exit_code")) r.exit_code = static_cast<uint32_t>(unsigned_value(*v, 255, at + "exit_code"));
  if (const json* v = optional_field(line, "signal")) {
    r.signal = static_cast<uint32_t>(unsigned_value(*v, 64, at + "signal"));
    if (*r.signal == 0) fail(at + "signal 0 is no signal");
  }
  if (r.exit_code && r.signal) fail(at + "both exit_code and signal");
  const json& stopped = required_field(line, "stopped", at);
  if (!stopped.is_boolean()) fail(at + "stopped must be a boolean, got " + type_of(stopped));
  r.stopped = stopped.get<bool>();
  r.error = optional_string(line, "error", at);
  if (!r.error && !r.exit_code && !r.signal) fail(at + "neither exit_code, signal nor error");
  if (const json* output = optional_field(line, "output")) r.output = string_array(*output, at + "output");
  return r;
}

ScenarioDone parse_scenario_done(const json& line, uint64_t seq) {
  const std::string at = "scenario_done: ";
  return ScenarioDone{seq, required_ms(line, "wall_ms", at),
                      string_array(required_field(line, "errors", at), at + "errors")};
}

AgentEvent parse_event(const json& line) {
  if (!line.is_object()) fail("line is a JSON " + type_of(line) + ", not an object");
  const json& name_value = required_field(line, "event", "");
  std::string name = string_value(name_value, "event");
  const std::string at = name + ": ";
  uint64_t seq = required_u64(line, "seq", at);
  if (name == "boot_done") return BootDone{seq, required_seconds(line, "uptime_s", at)};
  if (name == "kernel")
    return KernelInfo{seq,
                      required_string(line, "release", at),
                      required_string(line, "version", at),
                      required_string(line, "machine", at),
                      optional_string(line, "cmdline", at),
                      [&] {
                        const json& v = required_field(line, "sched_ext", at);
                        if (!v.is_boolean()) fail(at + "sched_ext must be a boolean, got " + type_of(v));
                        return v.get<bool>();
                      }()};
  if (name == "topology") return parse_topology(line, seq);
  if (name == "power_off") return PowerOff{seq};
  if (name == "heartbeat") return Heartbeat{seq, required_seconds(line, "uptime_s", at)};
  if (name == "agent_error") return AgentError{seq, required_string(line, "message", at)};
  if (name == "scheduler") return parse_scheduler(line, seq);
  if (name == "scenario_started") return parse_scenario_started(line, seq);
  if (name == "step") return parse_step(line, seq);
  if (name == "worker_report") return parse_worker_report(line, seq);
  if (name == "payload") return parse_payload(line, seq);
  if (name == "scenario_done") return parse_scenario_done(line, seq);
  fail("unknown event \"" + printable_excerpt(name) + "\"");
}

}  // namespace

ParsedLine parse_agent_line(std::string_view line) {
  try {
    if (!nesting_within(line, kMaxJsonDepth))
      return ProtocolError{"JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels"};
    json parsed = json::parse(line);
    return parse_event(parsed);
  } catch (const FieldError& e) {
    return ProtocolError{e.message};
  } catch (const json::parse_error& e) {
    // what() quotes the offending bytes, which may be anything.
    return ProtocolError{"invalid JSON: " + printable_excerpt(e.what(), 200)};
  } catch (const std::exception& e) {
    return ProtocolError{std::string("cannot parse line: ") + e.what()};
  }
}

uint64_t event_seq(const AgentEvent& event) {
  return std::visit([](const auto& e) { return e.seq; }, event);
}

std::string_view event_name(const AgentEvent& event) {
  static constexpr std::string_view kNames[] = {"boot_done",   "kernel",           "topology",  "power_off",
                                                "heartbeat",   "agent_error",      "scheduler", "scenario_started",
                                                "step",        "worker_report",    "payload",   "scenario_done"};
  static_assert(std::size(kNames) == std::variant_size_v<AgentEvent>);
  return kNames[event.index()];
}

std::string_view scheduler_state_name(SchedulerState state) {
  switch (state) {
    case SchedulerState::started: return "started";
    case SchedulerState::enabled: return "enabled";
    case SchedulerState::enable_timeout: return "enable_timeout";
    case SchedulerState::died: return "died";
    case SchedulerState::ejected: return "ejected";
    case SchedulerState::unsupported: return "unsupported";
    case SchedulerState::stopped: return "stopped";
  }
  return "unknown";
}

}  // namespace ktstr::protocol
