#pragma once
// JUnit XML for CI systems: one <testsuite> per scenario, one <testcase> per check kind
// (kAllChecks). A failing check gets a <failure>, an inconclusive one an <error>, a
// check that only skipped a <skipped>. Everything is escaped: worker names and
// scheduler output are untrusted.
#include <string>
#include <string_view>
#include <vector>

#include "apps/cli/report/scenario_report.hpp"

namespace ktstr::cli {

/// Escapes text for XML 1.0 element content (attribute = false) or a double- or
/// single-quoted attribute value (attribute = true: also tab, CR, LF as references).
/// Characters XML 1.0 cannot carry at all (controls other than tab/LF/CR, U+FFFE,
/// U+FFFF, invalid UTF-8) become the visible text "\xNN" per byte.
std::string xml_escape(std::string_view text, bool attribute);

/// A complete document: <testsuites> holding one <testsuite> per report.
std::string junit_xml(const std::vector<ScenarioReport>& reports);
inline std::string junit_xml(const ScenarioReport& report) { return junit_xml(std::vector<ScenarioReport>{report}); }

}  // namespace ktstr::cli
