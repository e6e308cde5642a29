#pragma once
// The listening side of mutual TLS, in place of CAF's OpenSSL middleman actor: a middleman
// actor whose doorman gives every accepted connection CAF's OpenSSL session wrapped in a
// watcher. A connection whose TLS handshake fails (no certificate, another CA's, plain
// TCP, closed before it finished) is logged with the peer's address and OpenSSL's reason
// and counted; CAF itself drops such connections silently.
#include <caf/actor_system.hpp>
#include <caf/io/middleman_actor.hpp>

#include <cstdint>

namespace ktstr::cli {

/// A middleman actor of `sys` (which must have CAF's OpenSSL manager loaded) whose `publish`
/// opens a watched TLS doorman and hands it to the middleman's BASP broker; its `connect`
/// makes TLS connections too (not counted as refusals). Spawned hidden (detached unless
/// middleman.attach-utility-actors), as CAF spawns its own; the caller kills it when done:
/// a published doorman belongs to the BASP broker and outlives the gate.
caf::io::middleman_actor spawn_tls_gate(caf::actor_system& sys);

/// Connections refused during the TLS handshake by gates of this process.
uint64_t tls_gate_refusals();

}  // namespace ktstr::cli
