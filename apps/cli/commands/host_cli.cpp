#include "apps/cli/commands/host_cli.hpp"

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/base/refusal.hpp"
#include "apps/cli/commands/host_command.hpp"
#include "apps/cli/commands/list_command.hpp"
#include "apps/cli/nested/nested_host.hpp"
#include "apps/cli/report/host_probe_report.hpp"

namespace ktstr::cli {

struct HostCommands {
  CLI::App* probe = nullptr;
  CLI::App* exec = nullptr;
  bool probe_json = false;
  std::string probe_device;
  NestedHostOptions nested;
  std::vector<std::string> writable;
};

struct ListCommand {
  CLI::App* command = nullptr;
  bool json = false;
};

std::shared_ptr<HostCommands> add_host_commands(CLI::App& app, const Environment& env) {
  auto h = std::make_shared<HostCommands>();
  h->probe_device = env.kvm_device.value_or("/dev/kvm");  // as `run` (tests)
  auto* host = app.add_subcommand("host", "this host's KVM: probe it, or run a command in the nested software-KVM host");
  host->require_subcommand(1);
  h->probe = host->add_subcommand("probe", "can /dev/kvm run guests? (exit 0 usable, 70 absent, 83 emulated, 84 broken)");
  h->probe->add_flag("--json", h->probe_json, "as JSON");
  h->probe->add_option("--device", h->probe_device, "the KVM device to probe")->capture_default_str();
  h->exec = host->add_subcommand("exec", "run a command inside the nested host (/dev/kvm there)");
  h->exec->add_option("--timeout", h->nested.timeout_s, "seconds until the nested host is killed")->capture_default_str();
  h->exec->add_option("--memory", h->nested.memory_mib, "outer guest memory in MiB")->capture_default_str();
  h->exec->add_option("--cpus", h->nested.cpus, "outer guest CPUs")->capture_default_str();
  h->exec->add_option("--writable", h->writable, "directory shared read-write at its own path (repeatable)");
  h->exec->add_option("--env", h->nested.env, "NAME=VALUE for the command (repeatable)");
  return h;
}

std::optional<int> run_host_commands(HostCommands& h, const std::vector<std::string>& after_dashdash,
                                     const Environment& env) {
  if (h.probe->parsed()) return host_probe_main(h.probe_device, h.probe_json);
  if (!h.exec->parsed()) return std::nullopt;
  NestedHostOptions nested = h.nested;
  for (const auto& w : h.writable) nested.writable.emplace_back(w);
  nested.command = after_dashdash;
  nested.environment = env;
  if (nested.command.empty()) return refuse(exit_usage, "host exec needs a command (host exec [options] -- CMD ARGS...)");
  return host_exec_main(nested);
}

std::shared_ptr<ListCommand> add_list_command(CLI::App& app) {
  auto l = std::make_shared<ListCommand>();
  l->command = app.add_subcommand("list", "list the built-in scenarios");
  l->command->add_flag("--json", l->json, "as JSON");
  return l;
}

std::optional<int> run_list_command(const ListCommand& l) {
  if (!l.command->parsed()) return std::nullopt;
  return list_main(l.json);
}

}  // namespace ktstr::cli
