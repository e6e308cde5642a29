#include "apps/cli/commands/kernel_commands.hpp"

#include <string>

#include "apps/cli/kernel/kernel_build.hpp"
#include "apps/cli/kernel/kernel_inspect.hpp"
#include "apps/cli/kernel/kernel_list.hpp"

namespace ktstr::cli {

struct KernelCommands {
  CLI::App* build = nullptr;
  CLI::App* list = nullptr;
  CLI::App* inspect = nullptr;
  KernelBuildOptions build_options;
  KernelInspectOptions inspect_options;
  std::string source = default_kernel_source, fragment;
  bool json = false;
};

std::shared_ptr<KernelCommands> add_kernel_commands(CLI::App& app) {
  auto k = std::make_shared<KernelCommands>();
  auto* kernel = app.add_subcommand("kernel", "guest kernels in the cache: build a sched_ext kernel, list them, inspect one");
  kernel->require_subcommand(1);
  k->build = kernel->add_subcommand("build", "build a sched_ext-capable kernel (linux-source-6.12) and cache it");
  k->build->add_option("--source", k->source, "kernel source tarball or unpacked tree")->capture_default_str();
  k->build->add_option("--name", k->build_options.name, "cache name (default: linux-<version>-scx)");
  k->build->add_option("--jobs,-j", k->build_options.jobs, "make -j N (default: the number of CPUs)")
      ->check(CLI::PositiveNumber);
  k->build->add_option("--fragment", k->fragment, "kconfig fragment (default: the built-in kernel-config/sched_ext.config)");
  k->build->add_flag("--schedulers", k->build_options.schedulers,
                     "also build tools/sched_ext (clang-19) and cache the scx_* schedulers");
  k->build->add_flag("--force", k->build_options.force, "rebuild even if the kernel is cached");
  k->list = kernel->add_subcommand("list", "list cached kernels (release, sched_ext, build time)");
  k->list->add_flag("--json", k->json, "JSON instead of a table");
  k->inspect = kernel->add_subcommand("inspect", "what the monitor reads from a kernel image: symbols, BTF layout");
  auto& io = k->inspect_options;
  k->inspect->add_option("kernel", io.kernel, "kernel image file, or a cached kernel's name")->required();
  k->inspect->add_option("--symbol", io.symbols, "look up a symbol's link-time address (repeatable)")
      ->allow_extra_args(false);  // one value per --symbol, so KERNEL may come after it
  k->inspect->add_option("--type", io.types, "look up a member offset, e.g. rq.scx.local_dsq.nr, or a struct's size (repeatable)")
      ->allow_extra_args(false);
  k->inspect->add_option("--system-map", io.system_map, "System.map (plain or compressed) to use instead of kallsyms");
  k->inspect->add_flag("--json", io.json, "one JSON object instead of text");
  return k;
}

std::optional<int> run_kernel_commands(const KernelCommands& k, const Environment& env) {
  if (k.build->parsed()) {
    KernelBuildOptions o = k.build_options;
    o.source = k.source;
    o.fragment = k.fragment;
    o.cache_dir = env.cache_dir;
    return kernel_build_main(o);
  }
  if (k.list->parsed()) return kernel_list_main(env.cache_dir, k.json);
  if (k.inspect->parsed()) return kernel_inspect_main(k.inspect_options, env.cache_dir);
  return std::nullopt;
}

}  // namespace ktstr::cli
