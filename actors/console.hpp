#pragma once
// The console actor: receives what the guest's UARTs send. COM1 (kernel console) goes
// to the console log, a bounded tail and the panic detector; COM2 (agent channel) is
// cut into bounded lines by the protocol's LineAssembler and forwarded to the observer.
// All of it is untrusted.
#include <caf/all.hpp>

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "apps/protocol/agent_line_assembler.hpp"

namespace ktstr::actors {

struct ConsoleConfig {
  std::filesystem::path kernel_log;   ///< COM1 bytes, verbatim
  std::filesystem::path agent_log;    ///< COM2 bytes, verbatim
  run_observer observer;              ///< receives agent_line
  panic_listener vm;                  ///< receives kernel_panic
  progress_listener watchdog;         ///< receives progress (any guest output); may be null
  std::chrono::steady_clock::time_point start;
};

struct console_state {
  static constexpr size_t kTailLines = 60;
  static constexpr size_t kPanicContext = 40;
  static constexpr size_t kKernelLineMax = 4096;
  static constexpr size_t kAgentLineMax = protocol::LineAssembler::kMaxLineBytes;

  ConsoleConfig config;
  std::ofstream kernel_log, agent_log;
  std::string kernel_partial;
  protocol::LineAssembler agent_lines{kAgentLineMax};
  std::deque<std::string> tail;
  bool panicked = false;
  std::chrono::steady_clock::time_point last_progress_sent;
  static constexpr const char* name = "console";
};

console_actor_t::behavior_type console_actor(console_actor_t::stateful_pointer<console_state> self,
                                             ConsoleConfig config);

}  // namespace ktstr::actors
