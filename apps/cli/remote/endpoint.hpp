#pragma once
// Where a worker listens or is reached: HOST:PORT, as users write it.
#include <cstdint>
#include <string>

#include "apps/cli/remote/credentials.hpp"

namespace ktstr::cli {

/// HOST:PORT (an IPv6 address in brackets: [::1]:7000).
struct Endpoint {
  std::string host;
  uint16_t port = 0;
  std::string to_string() const;
};

/// Parses HOST:PORT; port 0 allowed only when `listening` (the OS picks one). Throws RemoteError.
Endpoint parse_endpoint(const std::string& text, bool listening = false);

/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback(const std::string& host);

}  // namespace ktstr::cli
