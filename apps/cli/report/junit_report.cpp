#include "apps/cli/report/junit_report.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace ktstr::cli {

namespace {

void hex_byte(std::string& out, unsigned char byte) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\x";
  out += kHex[byte >> 4];
  out += kHex[byte & 15];
}

/// Length of the valid UTF-8 sequence at text[i], or 0 (RFC 3629: no overlongs,
/// no surrogates, nothing above U+10FFFF).
std::size_t utf8_length(std::string_view text, std::size_t i, uint32_t& code) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  unsigned char lead = b(0);
  if (lead < 0x80) return code = lead, 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) n = 2, code = lead & 0x1f;
  else if (lead >= 0xe0 && lead <= 0xef) {
    n = 3, code = lead & 0x0f;
    if (lead == 0xe0) lo = 0xa0;
    if (lead == 0xed) hi = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    n = 4, code = lead & 0x07;
    if (lead == 0xf0) lo = 0x90;
    if (lead == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    unsigned char c = b(k);
    if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xbf)) return 0;
    code = (code << 6) | (c & 0x3f);
  }
  return n;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

std::string xml_escape(std::string_view text, bool attribute) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (std::size_t i = 0; i < text.size();) {
    uint32_t code = 0;
    std::size_t n = utf8_length(text, i, code);
    if (n == 0) {
      hex_byte(out, static_cast<unsigned char>(text[i]));
      ++i;
      continue;
    }
    const bool allowed = code == 0x9 || code == 0xa || code == 0xd || (code >= 0x20 && code != 0xfffe && code != 0xffff);
    if (!allowed) {
      for (std::size_t k = 0; k < n; ++k) hex_byte(out, static_cast<unsigned char>(text[i + k]));
    } else if (code == '&') out += "&amp;";
    else if (code == '<') out += "&lt;";
    else if (code == '>') out += "&gt;";
    else if (code == '"') out += "&quot;";
    else if (code == '\'') out += "&apos;";
    else if (code == '\r') out += "&#13;";  // a raw CR would be normalised away by parsers
    else if (attribute && code == '\n') out += "&#10;";
    else if (attribute && code == '\t') out += "&#9;";
    else out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

std::string junit_xml(const std::vector<ScenarioReport>& reports) {
  std::size_t tests = 0, failures = 0, errors = 0, skipped = 0;
  std::string suites;
  for (const auto& report : reports) {
    std::size_t s_failures = 0, s_errors = 0, s_skipped = 0;
    std::string cases;
    const std::string classname = xml_escape("ktstr." + report.scenario, true);
    for (CheckKind check : kAllChecks) {
      std::vector<const Finding*> mine;
      for (const auto& f : report.findings)
        if (f.check == check) mine.push_back(&f);
      Verdict worst = Verdict::skip;
      for (const Finding* f : mine) worst = std::max(worst, f->verdict);
      cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\"", classname, check_name(check));
      if (mine.empty() || worst == Verdict::pass) {
        cases += "/>\n";
        continue;
      }
      cases += ">\n";
      if (worst == Verdict::skip) {
        ++s_skipped;
        cases += fmt::format("      <skipped message=\"{}\"/>\n", xml_escape(first_line(mine.front()->message), true));
      } else {
        const char* element = worst == Verdict::fail ? "failure" : "error";
        worst == Verdict::fail ? ++s_failures : ++s_errors;
        const Finding* headline = *std::find_if(mine.begin(), mine.end(), [&](auto* f) { return f->verdict == worst; });
        std::string body;
        for (const Finding* f : mine)
          if (f->verdict == Verdict::fail || f->verdict == Verdict::inconclusive)
            body += fmt::format("{}: {}\n", verdict_name(f->verdict), f->message);
        cases += fmt::format("      <{} message=\"{}\" type=\"{}\">{}</{}>\n", element,
                             xml_escape(first_line(headline->message), true), verdict_name(worst),
                             xml_escape(body, false), element);
      }
      cases += "    </testcase>\n";
    }
    const std::size_t s_tests = std::size(kAllChecks);
    std::string properties;
    for (const auto& [name, value] : report.properties)
      properties += fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", xml_escape(name, true), xml_escape(value, true));
    suites += fmt::format(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n"
        "    <properties>\n      <property name=\"verdict\" value=\"{}\"/>\n{}    </properties>\n{}  </testsuite>\n",
        xml_escape(report.scenario, true), s_tests, s_failures, s_errors, s_skipped, verdict_name(report.verdict),
        properties, cases);
    tests += s_tests, failures += s_failures, errors += s_errors, skipped += s_skipped;
  }
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites name=\"ktstr-actors\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n{}</testsuites>\n",
      tests, failures, errors, skipped, suites);
}

}  // namespace ktstr::cli
