#pragma once
// The CLI's output channels, one each: results (summaries, lists, JSON) go to stdout,
// logs and progress through spdlog (stderr), and a command that refuses or fails says so
// in one line on stderr, "ktstr-actors: <why>", with a distinct exit code
// (exit_codes.hpp). This is that line.
#include <string>
#include <string_view>

namespace ktstr::cli {

/// A refusal decided before it is said: its exit code and its line.
struct Refusal {
  int exit_code;
  std::string line;
};

/// Writes "ktstr-actors: <line>" to stderr and returns `code`, for `return refuse(...)`.
int refuse(int code, std::string_view line);

}  // namespace ktstr::cli
