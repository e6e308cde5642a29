#pragma once
// What the guest's UARTs sent, and what the console actor made of it.
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ktstr::msg {

/// Bytes a UART sent (port 1 = COM1 kernel console, 2 = COM2 agent channel).
struct console_output {
  uint8_t port = 0;
  std::string bytes;
};

/// One complete line from the guest agent (untrusted; parsed by the receiver).
struct agent_line {
  std::string line;
  double at_s = 0;  ///< host seconds since the VM started
};

/// The console saw the kernel panic; lines leading up to and including it.
struct kernel_panic {
  std::vector<std::string> lines;
  double at_s = 0;
};

/// The console's answer to tail_atom: the last kernel console lines, a partial last line included.
struct console_tail {
  std::vector<std::string> lines;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, console_output& x) {
  return f(caf::meta::type_name("console_output"), x.port, x.bytes);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, agent_line& x) {
  return f(caf::meta::type_name("agent_line"), x.line, x.at_s);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, kernel_panic& x) {
  return f(caf::meta::type_name("kernel_panic"), x.lines, x.at_s);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, console_tail& x) {
  return f(caf::meta::type_name("console_tail"), x.lines);
}

}  // namespace ktstr::msg
