#pragma once
// Our typed messages between processes and hosts over CAF's middleman (BASP over TCP),
// with CAF's OpenSSL module when credentials are given: mutual TLS, both sides' certificates
// checked against the pool's CA. A connection refused during the TLS handshake (no
// certificate, another CA's, plain TCP) is logged by the listening side with the peer's
// address and OpenSSL's reason, and counted.
#include <caf/all.hpp>

#include <chrono>
#include <cstdint>
#include <string>

#include "apps/cli/remote/credentials.hpp"
#include "apps/cli/remote/endpoint.hpp"

namespace ktstr::cli {

/// Loads the middleman into cfg and, when creds are not empty, CAF's OpenSSL manager with
/// them (check them first with check_credentials). Call before the actor system is made.
void configure_network(caf::actor_system_config& cfg, const Credentials& creds);

/// Publishes `whom` at the endpoint: over mutual TLS when the system was configured with
/// credentials, else plain TCP. Returns the bound port, or throws RemoteError.
uint16_t listen_on(caf::actor_system& sys, const caf::actor& whom, const Endpoint& at, bool tls);

/// Connects to an actor published at the endpoint (TLS when `tls`). Throws RemoteError naming
/// the endpoint and the reason (refused, handshake failed, no actor there).
caf::actor connect_to(caf::actor_system& sys, const Endpoint& to, bool tls);

/// The same, giving up (RemoteError) after `timeout`: a peer can accept TCP and never finish
/// the handshake. The three-argument form waits 30 s.
caf::actor connect_to(caf::actor_system& sys, const Endpoint& to, bool tls, std::chrono::milliseconds timeout);

/// Connections this process refused during the TLS handshake since it started.
uint64_t refused_handshakes();

}  // namespace ktstr::cli
