#include "apps/cli/remote/tls_gate.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/config_value.hpp>
#include <caf/detail/socket_guard.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor_impl.hpp>
#include <caf/io/network/default_multiplexer.hpp>
#include <caf/io/network/doorman_impl.hpp>
#include <caf/io/network/stream_impl.hpp>
#include <caf/io/scribe.hpp>
#include <caf/openssl/session.hpp>
#include <caf/sec.hpp>

#include <openssl/err.h>

#include <atomic>
#include <exception>
#include <functional>
#include <string>
#include <utility>

#include <spdlog/spdlog.h>

namespace ktstr::cli {
namespace {

namespace net = caf::io::network;
using net::native_socket;
using net::rw_state;

std::atomic<uint64_t> refusals{0};

/// The errors OpenSSL queued on this thread, as one line (the queue emptied), or `fallback`.
std::string drain_openssl_errors(const char* fallback) {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!text.empty()) text += "; ";
    text += buf;
  }
  return text.empty() ? std::string(fallback) : text;
}

/// Who is on the other end of a connection, for the log.
struct Peer {
  std::string addr;
  uint16_t port = 0;
  bool accepted = false;  ///< we accepted it (a failed handshake is a refusal) or connected out

  std::string text() const {
    const std::string host = addr.empty() ? std::string("?") : addr;
    return host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                                : host + ":" + std::to_string(port);
  }
};

void report_refusal(const Peer& peer, const std::string& reason) {
  spdlog::warn("refused a connection from {} during the TLS handshake: {}", peer.text(), reason);
  refusals.fetch_add(1, std::memory_order_relaxed);
}

/// The stream policy of a watched connection: CAF's OpenSSL session does the work; this
/// notices when the handshake is done (so the scribe can start sending) and a failure before
/// that, i.e. during the handshake.
class WatchedSession {
 public:
  WatchedSession(caf::openssl::session_ptr session, Peer peer, std::function<void()> on_established)
      : session_(std::move(session)), peer_(std::move(peer)), on_established_(std::move(on_established)) {}

  rw_state read_some(size_t& result, native_socket fd, void* buf, size_t len) {
    if (!established_) ERR_clear_error();  // the reason reported is this connection's
    rw_state state = session_->read_some(result, fd, buf, len);
    if (!established_ && state == rw_state::success && result == 0) {
      // Nothing to read: either still in SSL_accept/SSL_connect or just through it. A read of
      // zero bytes tells: the session answers `indeterminate` only once the handshake is done.
      size_t none = 0;
      const rw_state probe = session_->read_some(none, fd, buf, 0);
      if (probe == rw_state::indeterminate) establish();
      else if (probe == rw_state::failure) state = probe;
    }
    return watch(state, result);
  }

  rw_state write_some(size_t& result, native_socket fd, const void* buf, size_t len) {
    if (!established_) ERR_clear_error();
    const rw_state state = session_->write_some(result, fd, buf, len);
    return watch(state, result);
  }

  bool must_read_more(native_socket fd, size_t threshold) { return session_->must_read_more(fd, threshold); }

 private:
  void establish() {
    established_ = true;
    if (on_established_) on_established_();
  }

  rw_state watch(rw_state state, size_t moved) {
    if (state == rw_state::success && moved > 0 && !established_) {
      establish();  // payload moved: the session is past its handshake
    } else if (state == rw_state::failure && !established_ && !reported_) {
      reported_ = true;  // the read and the write side may both fail: one line per connection
      const std::string reason = drain_openssl_errors("connection closed");
      if (peer_.accepted) report_refusal(peer_, reason);
    }
    return state;
  }

  caf::openssl::session_ptr session_;
  Peer peer_;
  std::function<void()> on_established_;
  bool established_ = false;
  bool reported_ = false;
};

/// A broker's view of one watched TLS connection. What the broker writes waits until the
/// handshake is done: CAF's session answers a write during the handshake with "0 bytes,
/// try again", and a stream with pending bytes keeps asking, which spins the multiplexer's
/// thread for as long as a peer stays silent after connecting. The handshake itself moves on
/// the socket's read events (the peer speaks first: ClientHello, then its answers; our own
/// first flight went out in make_session).
class WatchedScribe : public caf::io::scribe {
 public:
  WatchedScribe(net::default_multiplexer& mpx, native_socket fd, caf::openssl::session_ptr session, Peer peer)
      : caf::io::scribe(net::conn_hdl_from_socket(fd)),
        stream_(mpx, fd, std::move(session), std::move(peer), [this] { handshake_done(); }) {}

  void configure_read(caf::io::receive_policy::config config) override {
    stream_.configure_read(config);
    if (!started_) {
      started_ = true;
      stream_.start(this);
    }
  }
  void ack_writes(bool enable) override { stream_.ack_writes(enable); }
  std::vector<char>& wr_buf() override { return stream_.wr_buf(); }
  std::vector<char>& rd_buf() override { return stream_.rd_buf(); }
  void flush() override {
    if (!established_) {
      flush_pending_ = true;
      return;
    }
    stream_.flush(this);
  }
  void graceful_shutdown() override {
    stream_.graceful_shutdown();
    detach(&stream_.backend(), false);
  }
  std::string addr() const override {
    auto a = net::remote_addr_of_fd(stream_.fd());
    return a ? *a : std::string();
  }
  uint16_t port() const override {
    auto p = net::remote_port_of_fd(stream_.fd());
    return p ? *p : 0;
  }
  void add_to_loop() override { stream_.activate(this); }
  void remove_from_loop() override { stream_.passivate(); }

 private:
  // Called from the stream's read handler on the multiplexer's thread, like a broker's own
  // flush from inside its consume().
  void handshake_done() {
    established_ = true;
    if (flush_pending_) {
      flush_pending_ = false;
      stream_.flush(this);
    }
  }

  bool started_ = false;
  bool established_ = false;
  bool flush_pending_ = false;
  net::stream_impl<WatchedSession> stream_;
};

/// Accepts TCP connections and starts a watched TLS session on each.
class WatchedDoorman : public net::doorman_impl {
 public:
  using net::doorman_impl::doorman_impl;

  bool new_connection() override {
    if (detached()) return false;  // closed by the broker while an accept was pending
    auto& mpx = acceptor_.backend();
    const native_socket fd = acceptor_.accepted_socket();
    caf::detail::socket_guard guard{fd};
    net::nonblocking(fd, true);
    Peer peer;
    peer.accepted = true;
    if (auto a = net::remote_addr_of_fd(fd)) peer.addr = *a;
    if (auto p = net::remote_port_of_fd(fd)) peer.port = *p;
    caf::openssl::session_ptr session;
    ERR_clear_error();
    try {
      // Starts SSL_accept at once: a peer whose first bytes are already here can fail now.
      session = caf::openssl::make_session(parent()->system(), fd, true);
    } catch (const std::exception& e) {
      spdlog::error("cannot start a TLS session for a connection from {}: {}", peer.text(), e.what());
      return false;
    }
    if (!session) {
      report_refusal(peer, drain_openssl_errors("connection closed"));
      return false;
    }
    auto scribe = caf::make_counted<WatchedScribe>(mpx, fd, std::move(session), std::move(peer));
    guard.release();  // the scribe owns the socket now
    auto hdl = scribe->hdl();
    parent()->add_scribe(std::move(scribe));
    return caf::io::doorman::new_connection(&mpx, hdl);
  }
};

class TlsGate : public caf::io::middleman_actor_impl {
 public:
  TlsGate(caf::actor_config& cfg, caf::actor basp) : caf::io::middleman_actor_impl(cfg, std::move(basp)) {}

  const char* name() const override { return "ktstr_tls_gate"; }

 protected:
  caf::expected<caf::io::doorman_ptr> open(uint16_t port, const char* addr, bool reuse) override {
    auto fd = net::new_tcp_acceptor_impl(port, addr, reuse);
    if (!fd) return std::move(fd.error());
    return caf::io::doorman_ptr{caf::make_counted<WatchedDoorman>(mpx(), *fd)};
  }

  caf::expected<caf::io::scribe_ptr> connect(const std::string& host, uint16_t port) override {
    auto fd = net::new_tcp_connection(host, port);
    if (!fd) return std::move(fd.error());
    caf::detail::socket_guard guard{*fd};
    net::nonblocking(*fd, true);
    ERR_clear_error();
    caf::openssl::session_ptr session;
    try {
      session = caf::openssl::make_session(system(), *fd, false);
    } catch (const std::exception&) {
      session = nullptr;
    }
    if (!session) return caf::make_error(caf::sec::cannot_connect_to_node);
    Peer peer{host, port, false};
    auto scribe = caf::make_counted<WatchedScribe>(mpx(), *fd, std::move(session), std::move(peer));
    guard.release();
    return caf::io::scribe_ptr{std::move(scribe)};
  }

 private:
  net::default_multiplexer& mpx() { return static_cast<net::default_multiplexer&>(system().middleman().backend()); }
};

}  // namespace

caf::io::middleman_actor spawn_tls_gate(caf::actor_system& sys) {
  auto basp = sys.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
  if (caf::get_or(sys.config(), "middleman.attach-utility-actors", false))
    return sys.spawn<TlsGate, caf::hidden>(std::move(basp));
  return sys.spawn<TlsGate, caf::detached + caf::hidden>(std::move(basp));
}

uint64_t tls_gate_refusals() { return refusals.load(std::memory_order_relaxed); }

}  // namespace ktstr::cli
