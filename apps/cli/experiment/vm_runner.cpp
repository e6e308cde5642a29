#include "apps/cli/experiment/vm_runner.hpp"

#include <sys/wait.h>

#include <cerrno>
#include <chrono>

#include "messages/experiment.hpp"

namespace ktstr::cli {

void vm_runner(caf::blocking_actor* self, VmRun run, RunLauncher launch, caf::actor orchestrator) {
  const auto began = std::chrono::steady_clock::now();
  msg::vm_run_ended ended;
  ended.index = run.index;
  ended.where = "local";
  pid_t pid = -1;
  try {
    pid = launch(run);
  } catch (const std::exception& e) {
    ended.error = e.what();
    self->send(orchestrator, ended);
    return;
  }
  self->send(orchestrator, msg::vm_run_started{run.index, static_cast<int32_t>(pid), "local"});
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ended.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  if (WIFEXITED(status)) ended.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) ended.signal = WTERMSIG(status);
  self->send(orchestrator, ended);
}

}  // namespace ktstr::cli
