#include "apps/cli/vm/fault_option.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/protocol/printable.hpp"

namespace ktstr::cli {

namespace {

Refusal refused(const std::string& text, const std::string& why) {
  return {exit_fault, "--fault " + protocol::printable_excerpt(text, 80) + ": " + why};
}

std::optional<double> number(std::string_view s) {
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

std::variant<std::vector<msg::fault_event>, Refusal> parse_faults(const std::vector<std::string>& texts, uint32_t vcpus,
                                                                  double run_s) {
  std::vector<msg::fault_event> out;
  for (const auto& text : texts) {
    const auto colon = text.find(':');
    const std::string kind = text.substr(0, colon);
    if (kind != "vcpu_stall") return refused(text, "unknown fault \"" + kind + "\" (known: vcpu_stall:VCPU@AT+SECONDS)");
    const std::string_view args = colon == std::string::npos ? std::string_view() : std::string_view(text).substr(colon + 1);
    const auto at = args.find('@'), plus = args.find('+', at == std::string_view::npos ? 0 : at);
    if (at == std::string_view::npos || plus == std::string_view::npos)
      return refused(text, "expected vcpu_stall:VCPU@AT+SECONDS, e.g. vcpu_stall:1@5+3");
    const auto vcpu = number(args.substr(0, at));
    const auto when = number(args.substr(at + 1, plus - at - 1));
    const auto seconds = number(args.substr(plus + 1));
    if (!vcpu || *vcpu < 0 || *vcpu != std::floor(*vcpu)) return refused(text, "the vCPU is a whole number");
    if (*vcpu >= vcpus)
      return refused(text, fmt::format("no vCPU {}: the topology has {} (0..{})", *vcpu, vcpus, vcpus - 1));
    if (!when || *when < 0 || *when >= run_s)
      return refused(text, fmt::format("the time after '@' is seconds from VM start, before the run's end ({} s)", run_s));
    if (!seconds || *seconds <= 0 || *seconds > kMaxStallSeconds)
      return refused(text, fmt::format("the stall after '+' is more than 0 and at most {} seconds", kMaxStallSeconds));
    msg::fault_event f;
    f.kind = kind;
    f.vcpu = static_cast<uint32_t>(*vcpu);
    f.at_s = *when;
    f.seconds = *seconds;
    f.spec = text;
    for (const auto& other : out)
      if (other.vcpu == f.vcpu && f.at_s < other.at_s + other.seconds && other.at_s < f.at_s + f.seconds)
        return refused(text, "overlaps " + other.spec + " on the same vCPU");
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace ktstr::cli
