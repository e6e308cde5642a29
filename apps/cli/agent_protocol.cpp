#include "apps/cli/agent_protocol.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "kvm/topology.hpp"

namespace ktstr::cli {

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

std::string string_value(const json& value, const std::string& name) {
  if (!value.is_string()) fail(name + " must be a string, got " + type_of(value));
  return value.get<std::string>();
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
  static constexpr std::string_view kNames[] = {"boot_done", "kernel",    "topology",
                                                "power_off", "heartbeat", "agent_error"};
  return kNames[event.index()];
}

std::string printable_excerpt(std::string_view text, std::size_t max_chars) {
  std::string out;
  for (char c : text.substr(0, max_chars)) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  if (text.size() > max_chars) out += "...";
  return out;
}

}  // namespace ktstr::cli
