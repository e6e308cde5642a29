#pragma once
// How many objects a configured kernel tree will compile, estimated by walking its Kbuild
// makefiles from the top-level Kbuild: obj-y / lib-y / obj-$(CONFIG_X) entries whose
// symbol is y, descending into directories, counting the parts of composite objects
// (foo-y / foo-objs). Conditionals (ifdef ...) are not evaluated and both branches
// count, so it is an estimate: the denominator of the first build's progress line.
#include <cstddef>
#include <filesystem>
#include <string>

#include "apps/cli/kernel/kconfig.hpp"

namespace ktstr::cli {

/// 0 when the tree has no top-level Kbuild with obj-y entries.
std::size_t estimate_kbuild_objects(const std::filesystem::path& tree, const Kconfig& config,
                                    const std::string& srcarch = "x86");

}  // namespace ktstr::cli
