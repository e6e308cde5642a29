#include "apps/cli/vm/fault_option.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/base/watch_spec.hpp"
#include "apps/protocol/printable.hpp"
#include "kvm/hex.hpp"

namespace ktstr::cli {

namespace {

constexpr uint64_t kKernelImage = 0xffffffff80000000ull;  // __START_KERNEL_map: below it, per-CPU offsets

const char* const kKnown =
    "known: vcpu_stall:VCPU@AT+SECONDS, vcpu_jitter:VCPU@AT+SECONDS/PERIOD_MS:PAUSE_MS, kick_loss:VCPU@AT+COUNT, "
    "nmi:VCPU@AT, guest_write:SYMBOL[+OFF][:LEN]=VALUE@AT";

Refusal refused(const std::string& text, const std::string& why) {
  return {exit_fault, "--fault " + protocol::printable_excerpt(text, 80) + ": " + why};
}

std::optional<double> number(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string_view field(std::string_view s, size_t from, size_t to) {
  return from == std::string_view::npos ? std::string_view() : s.substr(from, to == std::string_view::npos ? to : to - from);
}

/// The window a fault keeps its vCPU parked in (stall, jitter); nullopt for the others.
std::optional<std::pair<double, double>> parked_window(const msg::fault_event& f) {
  if (f.kind != "vcpu_stall" && f.kind != "vcpu_jitter") return std::nullopt;
  return std::make_pair(f.at_s, f.at_s + f.seconds);
}

/// VCPU@AT[+REST][/...]: the vCPU and the time, and what follows '+' (empty without one).
std::optional<Refusal> vcpu_and_time(const std::string& text, std::string_view args, const std::string& shape,
                                     bool with_plus, msg::fault_event& f, std::string_view& rest) {
  const auto at = args.find('@');
  if (at == std::string_view::npos) return refused(text, "expected " + shape);
  const auto plus = args.find('+', at);
  const auto vcpu = parse_whole_number(args.substr(0, at));
  const auto when = number(field(args, at + 1, plus));
  if (!vcpu || *vcpu > UINT32_MAX) return refused(text, "the vCPU is a whole number");
  if (!when || *when < 0) return refused(text, "the time after '@' is seconds from VM start");
  f.vcpu = static_cast<uint32_t>(*vcpu);
  f.at_s = *when;
  rest = plus == std::string_view::npos ? std::string_view() : args.substr(plus + 1);
  if (with_plus != (plus != std::string_view::npos)) return refused(text, "expected " + shape);
  return std::nullopt;
}

std::optional<Refusal> stall(const std::string& text, std::string_view args, msg::fault_event& f) {
  std::string_view rest;
  if (auto r = vcpu_and_time(text, args, "vcpu_stall:VCPU@AT+SECONDS, e.g. vcpu_stall:1@5+3", true, f, rest)) return r;
  const auto seconds = number(rest);
  if (!seconds || *seconds <= 0 || *seconds > kMaxStallSeconds)
    return refused(text, fmt::format("the stall after '+' is more than 0 and at most {} seconds", kMaxStallSeconds));
  f.seconds = *seconds;
  return std::nullopt;
}

std::optional<Refusal> jitter(const std::string& text, std::string_view args, msg::fault_event& f) {
  const std::string shape = "vcpu_jitter:VCPU@AT+SECONDS/PERIOD_MS:PAUSE_MS, e.g. vcpu_jitter:1@5+4/100:30";
  std::string_view rest;
  if (auto r = vcpu_and_time(text, args, shape, true, f, rest)) return r;
  const auto slash = rest.find('/'), colon = rest.find(':');
  if (slash == std::string_view::npos || colon == std::string_view::npos || colon < slash)
    return refused(text, "expected " + shape);
  const auto seconds = number(rest.substr(0, slash));
  const auto period = parse_whole_number(field(rest, slash + 1, colon));
  const auto pause = parse_whole_number(rest.substr(colon + 1));
  if (!seconds || *seconds <= 0 || *seconds > kMaxStallSeconds)
    return refused(text, fmt::format("the window after '+' is more than 0 and at most {} seconds", kMaxStallSeconds));
  if (!period || *period < kMinJitterPeriodMs || *period > kMaxJitterPeriodMs)
    return refused(text, fmt::format("the period after '/' is {} to {} ms", kMinJitterPeriodMs, kMaxJitterPeriodMs));
  if (!pause || *pause < 1 || *pause >= *period)
    return refused(text, "the pause after ':' is at least 1 ms and shorter than the period");
  const double pauses = std::ceil(*seconds * 1000 / static_cast<double>(*period));
  if (pauses > kMaxJitterPauses)
    return refused(text, fmt::format("{} pauses; at most {} (a longer period or a shorter window)", pauses, kMaxJitterPauses));
  f.seconds = *seconds;
  f.period_ms = static_cast<uint32_t>(*period);
  f.pause_ms = static_cast<uint32_t>(*pause);
  return std::nullopt;
}

std::optional<Refusal> kick_loss(const std::string& text, std::string_view args, msg::fault_event& f) {
  std::string_view rest;
  if (auto r = vcpu_and_time(text, args, "kick_loss:VCPU@AT+COUNT, e.g. kick_loss:1@5+20", true, f, rest)) return r;
  const auto count = parse_whole_number(rest);
  if (!count || *count < 1 || *count > kMaxDroppedKicks)
    return refused(text, fmt::format("the count after '+' is 1 to {} kicks", kMaxDroppedKicks));
  f.count = static_cast<uint32_t>(*count);
  return std::nullopt;
}

std::optional<Refusal> nmi(const std::string& text, std::string_view args, msg::fault_event& f) {
  std::string_view rest;
  return vcpu_and_time(text, args, "nmi:VCPU@AT, e.g. nmi:1@5", false, f, rest);
}

std::optional<Refusal> guest_write(const std::string& text, std::string_view args, msg::fault_event& f) {
  const std::string shape = "guest_write:SYMBOL[+OFF][:LEN]=VALUE@AT, e.g. guest_write:scx_watchdog_timeout=1@5";
  const auto eq = args.find('='), at = args.rfind('@');
  if (eq == std::string_view::npos || at == std::string_view::npos || at < eq) return refused(text, "expected " + shape);
  auto spec = parse_watch_spec(args.substr(0, eq));
  if (auto* why = std::get_if<std::string>(&spec)) {
    if (why->starts_with("expected")) return refused(text, "expected " + shape);
    return refused(text, *why);
  }
  const auto& w = std::get<WatchSpec>(spec);
  if (w.freeze) return refused(text, "expected " + shape);
  const auto value = parse_whole_number(field(args, eq + 1, at));
  const auto when = number(args.substr(at + 1));
  if (!value) return refused(text, "the value after '=' is a whole number (decimal or 0x hex)");
  if (w.length < 8 && *value >> (8 * w.length) != 0)
    return refused(text, fmt::format("{} does not fit in {} byte(s)", *value, w.length));
  if (!when || *when < 0) return refused(text, "the time after '@' is seconds from VM start");
  f.symbol = w.symbol;
  f.offset = w.offset;
  f.length = w.length;
  f.value = *value;
  f.at_s = *when;
  return std::nullopt;
}

}  // namespace

std::variant<msg::fault_event, Refusal> parse_fault(const std::string& text) {
  const auto colon = text.find(':');
  msg::fault_event f;
  f.kind = text.substr(0, colon);
  f.spec = text;
  const std::string_view args = colon == std::string::npos ? std::string_view() : std::string_view(text).substr(colon + 1);
  std::optional<Refusal> problem;
  if (f.kind == "vcpu_stall") problem = stall(text, args, f);
  else if (f.kind == "vcpu_jitter") problem = jitter(text, args, f);
  else if (f.kind == "kick_loss") problem = kick_loss(text, args, f);
  else if (f.kind == "nmi") problem = nmi(text, args, f);
  else if (f.kind == "guest_write") problem = guest_write(text, args, f);
  else problem = refused(text, "unknown fault \"" + protocol::printable_excerpt(f.kind, 40) + "\" (" + kKnown + ")");
  if (problem) return *problem;
  return f;
}

std::variant<std::vector<msg::fault_event>, Refusal> parse_faults(const std::vector<std::string>& texts, uint32_t vcpus,
                                                                  double run_s) {
  std::vector<msg::fault_event> out;
  for (const auto& text : texts) {
    auto parsed = parse_fault(text);
    if (auto* r = std::get_if<Refusal>(&parsed)) return *r;
    auto f = std::get<msg::fault_event>(std::move(parsed));
    if (f.kind != "guest_write" && f.vcpu >= vcpus)
      return refused(text, fmt::format("no vCPU {}: the topology has {} (0..{})", f.vcpu, vcpus, vcpus - 1));
    if (f.at_s >= run_s)
      return refused(text, fmt::format("the time after '@' is seconds from VM start, before the run's end ({} s)", run_s));
    for (const auto& other : out) {
      if (f.kind == "guest_write" || other.vcpu != f.vcpu) continue;
      const auto mine = parked_window(f), theirs = parked_window(other);
      if (mine && theirs && mine->first < theirs->second && theirs->first < mine->second)
        return refused(text, "overlaps " + other.spec + " on the same vCPU");
      if (f.kind == "kick_loss" && other.kind == "kick_loss")
        return refused(text, "vCPU " + std::to_string(f.vcpu) + " already has " + other.spec + " (one kick_loss per vCPU)");
    }
    out.push_back(std::move(f));
  }
  return out;
}

bool faults_need_symbols(const std::vector<msg::fault_event>& faults) {
  return std::any_of(faults.begin(), faults.end(), [](const auto& f) { return f.kind == "guest_write"; });
}

std::optional<Refusal> resolve_fault_symbols(std::vector<msg::fault_event>& faults,
                                             const guest_kernel::SymbolTable& symbols) {
  for (auto& f : faults) {
    if (f.kind != "guest_write") continue;
    const auto* sym = symbols.find(f.symbol);
    if (!sym) return refused(f.spec, "no symbol " + f.symbol + " in this kernel (see `ktstr-actors kernel inspect`)");
    if (sym->address < kKernelImage)
      return refused(f.spec, f.symbol + " is a per-CPU symbol (one copy per CPU): write a global");
    const uint64_t address = sym->address + f.offset;
    if (address % f.length != 0)
      return refused(f.spec, "address 0x" + kvm::to_hex(address) + " is not aligned to its length " +
                                 std::to_string(f.length) + " (the word is stored in one access)");
    if (auto next = symbols.next_address(sym->address); next && address + f.length > *next)
      return refused(f.spec, "the written bytes run past the end of " + f.symbol);
    f.link_address = address;
  }
  return std::nullopt;
}

}  // namespace ktstr::cli
