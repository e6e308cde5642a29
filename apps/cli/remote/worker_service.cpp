#include "apps/cli/remote/worker_service.hpp"

#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "actors/runtime_config.hpp"
#include "apps/cli/remote/network.hpp"
#include "apps/cli/remote/worker.hpp"

namespace ktstr::cli {

void serve_worker(const WorkerConfig& config, const Endpoint& at, const Credentials& creds,
                  const std::atomic<bool>& stop, std::ostream& out) {
  const bool tls = !creds.empty();
  caf::actor_system_config cfg;
  actors::configure_runtime(cfg);
  configure_network(cfg, creds);
  // A client cut off without a word is noticed within the timeout (its jobs are stopped).
  cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::seconds(2)});
  cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(20)});
  caf::actor_system sys{cfg};
  caf::actor worker;
  try {
    worker = sys.spawn(worker_actor, config);
  } catch (const std::exception& e) {
    throw RemoteError(e.what());
  }
  uint16_t port = 0;
  try {
    port = listen_on(sys, worker, at, tls);
  } catch (...) {
    caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
    throw;
  }
  Endpoint bound = at;
  bound.port = port;
  out << fmt::format("worker listening on {} ({} slot(s), {}; files in {})", bound.to_string(), config.slots,
                     tls ? "mutual TLS, peers must hold a certificate signed by " + creds.ca.string()
                         : std::string("plain TCP on loopback: no credentials, any local user can send jobs"),
                     config.cache_dir.string())
      << std::endl;
  if (!config.refuses.empty()) out << "every job will be refused: " << config.refuses << std::endl;
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  out << "worker stopping" << std::endl;
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
}

}  // namespace ktstr::cli
