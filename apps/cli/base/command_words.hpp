#pragma once
// A command line as one string (`run --payload "hackbench -g 4 -l 200"`): split into words
// the way a POSIX shell splits a simple command without expansions ('single' and "double"
// quotes, backslash escapes), and the reverse, so a list of words travels as one option
// value (the experiment's runs, the nested re-run) and comes back unchanged.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ktstr::cli {

struct CommandWords {
  std::vector<std::string> words;
  std::string error;  ///< non-empty: why the text is not a command line (an open quote, ...)
};

CommandWords split_command(std::string_view text);
/// Words quoted so that split_command gives them back: plain words as they are, others in
/// single quotes.
std::string join_command(const std::vector<std::string>& words);

}  // namespace ktstr::cli
