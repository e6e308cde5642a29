#pragma once
// One run of an experiment on the HTML page: its header (verdict, expectation, how the
// VM ended), its timeline, what could not be drawn, the tasks' colours, its findings.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ktstr::cli {

/// Escaped text for HTML content or a quoted attribute (xml_escape: controls and invalid UTF-8 as visible \xNN).
std::string html_text(std::string_view text);
/// A CSS class for a verdict word from a result: one of a fixed set, never the word itself.
const char* verdict_class(std::string_view verdict);

/// `run`: one entry of experiment.json's `vms`; `number` orders the page's anchors.
std::string run_section(const nlohmann::json& run, size_t number);

}  // namespace ktstr::cli
