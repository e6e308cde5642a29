#pragma once
// Kconfig files (.config and fragments): parsing and the check that a fragment survived
// `make olddefconfig` (a Kconfig dependency can silently drop a symbol). Pure: no I/O.
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ktstr::cli {

/// Symbol (without "CONFIG_") -> value as written ("y", "m", "128", "\"text\""); "n" for
/// both `CONFIG_X=n` and `# CONFIG_X is not set`. Other lines are ignored.
using Kconfig = std::map<std::string, std::string>;

Kconfig parse_kconfig(std::string_view text);

/// The value of symbol in config; "n" when absent (Kconfig's meaning of absent).
std::string kconfig_value(const Kconfig& config, const std::string& symbol);

struct KconfigMismatch {
  std::string symbol;  ///< without "CONFIG_"
  std::string wanted;  ///< the fragment's value
  std::string got;     ///< the config's value ("n" when not set)
  bool required;       ///< wanted != "n": a dropped feature (fails the build); false: a warning
};

/// Every fragment symbol whose value differs in config. Symbols the fragment disables
/// (=n) and the config enables come back with required=false: something selected them,
/// which costs build time but not a feature.
std::vector<KconfigMismatch> verify_fragment(const Kconfig& fragment, const Kconfig& config);

/// "CONFIG_X=y (got: not set)" for messages.
std::string describe(const KconfigMismatch& m);

/// CONFIG_SCHED_CLASS_EXT=y.
bool has_sched_ext(const Kconfig& config);

}  // namespace ktstr::cli
