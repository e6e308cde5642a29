#pragma once
// A worker process's actor system: the middleman (and CAF's OpenSSL module with
// credentials), the worker actor published at the endpoint, the bound address said on
// `out`, until `stop` is set.
#include <atomic>
#include <ostream>

#include "apps/cli/remote/endpoint.hpp"
#include "apps/cli/remote/worker_config.hpp"

namespace ktstr::cli {

/// Returns when stop is set; throws RemoteError when the worker cannot start or listen.
void serve_worker(const WorkerConfig& config, const Endpoint& at, const Credentials& creds,
                  const std::atomic<bool>& stop, std::ostream& out);

}  // namespace ktstr::cli
