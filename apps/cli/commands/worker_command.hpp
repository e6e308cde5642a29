#pragma once
// `ktstr-actors worker`: a long-running process that takes VM runs from experiments on
// other hosts (apps/cli/remote/worker.hpp), over mutual TLS with the pool's credentials,
// or plain TCP on loopback without them; `worker --init-ca DIR` makes those credentials.
#include <CLI/CLI.hpp>

#include <memory>
#include <optional>

#include "apps/cli/base/environment.hpp"

namespace ktstr::cli {

struct WorkerCommand;
std::shared_ptr<WorkerCommand> add_worker_command(CLI::App& app);
std::optional<int> run_worker_command(WorkerCommand& command, const Environment& env);

}  // namespace ktstr::cli
