#pragma once
// `ktstr-actors list`: the built-in scenarios with their expected verdicts.
namespace ktstr::cli {

/// Prints the catalog (a table, or JSON); returns the exit code.
int list_main(bool json);

}  // namespace ktstr::cli
