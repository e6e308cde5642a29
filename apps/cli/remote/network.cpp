#include "apps/cli/remote/network.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "apps/cli/remote/tls_gate.hpp"

namespace ktstr::cli {
namespace {

[[noreturn]] void bad_endpoint(const std::string& text, const std::string& why) {
  throw RemoteError(fmt::format("bad endpoint \"{}\": {}", text, why));
}

uint16_t parse_port(const std::string& text, const std::string& digits, bool listening) {
  if (digits.empty()) bad_endpoint(text, "no port after ':' (HOST:PORT)");
  if (digits.size() > 5 || !std::all_of(digits.begin(), digits.end(), [](unsigned char ch) { return std::isdigit(ch); }))
    bad_endpoint(text, fmt::format("port \"{}\" is not a number from 1 to 65535", digits));
  const unsigned long value = std::stoul(digits);
  if (value > 65535) bad_endpoint(text, fmt::format("port {} is above 65535", value));
  if (value == 0 && !listening) bad_endpoint(text, "port 0 only lets a listener pick a free port");
  return static_cast<uint16_t>(value);
}

std::string strip_brackets(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

std::string Endpoint::to_string() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

Endpoint parse_endpoint(const std::string& text, bool listening) {
  Endpoint ep;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) bad_endpoint(text, "no ']' after an IPv6 address ([ADDR]:PORT)");
    ep.host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') bad_endpoint(text, "no ':PORT' after ']'");
    port_text = text.substr(close + 2);
    in6_addr a6;
    if (ep.host.empty() || ::inet_pton(AF_INET6, ep.host.c_str(), &a6) != 1)
      bad_endpoint(text, "not an IPv6 address between the brackets");
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) bad_endpoint(text, "expected HOST:PORT");
    ep.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (ep.host.empty()) bad_endpoint(text, "no host before ':PORT'");
    if (ep.host.find(':') != std::string::npos) bad_endpoint(text, "an IPv6 address goes in brackets: [ADDR]:PORT");
    if (std::any_of(ep.host.begin(), ep.host.end(), [](unsigned char ch) { return std::isspace(ch) || ch == '/'; }))
      bad_endpoint(text, "the host has a space or a '/'");
  }
  ep.port = parse_port(text, port_text, listening);
  return ep;
}

bool is_loopback(const std::string& host_text) {
  const std::string host = strip_brackets(host_text);
  std::string lower(host.size(), '\0');
  std::transform(host.begin(), host.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (lower == "localhost" || lower == "localhost.") return true;
  in_addr a4;
  if (::inet_pton(AF_INET, host.c_str(), &a4) == 1) return (ntohl(a4.s_addr) >> 24) == 127;
  in6_addr a6;
  if (::inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&a6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;  // ::ffff:127.x.y.z
  }
  return false;
}

void configure_network(caf::actor_system_config& cfg, const Credentials& creds) {
  cfg.load<caf::io::middleman>();
  if (creds.empty()) return;
  cfg.openssl_certificate = creds.cert.string();
  cfg.openssl_key = creds.key.string();
  cfg.openssl_cafile = creds.ca.string();
  cfg.load<caf::openssl::manager>();
}

uint16_t listen_on(caf::actor_system& sys, const caf::actor& whom, const Endpoint& at, bool tls) {
  if (!sys.has_middleman()) throw RemoteError(fmt::format("cannot listen on {}: no middleman loaded", at.to_string()));
  if (!whom) throw RemoteError(fmt::format("cannot listen on {}: no actor to publish", at.to_string()));
  // SO_REUSEADDR: a restarted worker binds its port again while old connections linger in
  // TIME_WAIT (CAF sets no SO_REUSEPORT: a second live listener still fails).
  const bool reuse = true;
  if (!tls) {
    auto port = sys.middleman().publish(whom, at.port, at.host.c_str(), reuse);
    if (!port) throw RemoteError(fmt::format("cannot listen on {}: {}", at.to_string(), sys.render(port.error())));
    return *port;
  }
  if (!sys.has_openssl_manager())
    throw RemoteError(fmt::format("cannot listen on {} with TLS: no credentials (CAF's OpenSSL manager not loaded)",
                                  at.to_string()));
  // Our gate instead of caf::openssl::publish: the same publish request, but its doorman
  // logs and counts the handshakes it refuses. The doorman belongs to the BASP broker once
  // published, so the gate is done after its answer.
  auto gate = spawn_tls_gate(sys);
  caf::scoped_actor self{sys, true};
  std::optional<uint16_t> bound;
  std::string failure;
  self->request(gate, std::chrono::seconds(30), caf::publish_atom::value, at.port,
                caf::actor_cast<caf::strong_actor_ptr>(whom), std::set<std::string>{}, at.host, reuse)
      .receive([&](uint16_t port) { bound = port; }, [&](caf::error& err) { failure = sys.render(err); });
  self->send_exit(gate, caf::exit_reason::kill);
  self->wait_for(gate);
  if (!bound) throw RemoteError(fmt::format("cannot listen on {} with TLS: {}", at.to_string(), failure));
  return *bound;
}

caf::actor connect_to(caf::actor_system& sys, const Endpoint& to, bool tls, std::chrono::milliseconds timeout) {
  if (!sys.has_middleman()) throw RemoteError(fmt::format("cannot connect to {}: no middleman loaded", to.to_string()));
  if (tls && !sys.has_openssl_manager())
    throw RemoteError(
        fmt::format("cannot connect to {} with TLS: no credentials (CAF's OpenSSL manager not loaded)", to.to_string()));
  // What caf::io::remote_actor and caf::openssl::remote_actor do, with a time bound: theirs
  // wait forever for a peer that accepts TCP and then never finishes the handshake.
  const caf::io::middleman_actor handle =
      tls ? sys.openssl_manager().actor_handle() : sys.middleman().actor_handle();
  caf::scoped_actor self{sys, true};
  caf::actor result;
  std::string failure;
  self->request(handle, timeout, caf::connect_atom::value, to.host, to.port)
      .receive(
          [&](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>& ifs) {
            if (!ptr)
              failure = "no actor published there";
            else if (!sys.assignable(ifs, std::set<std::string>{}))
              failure = "the actor published there is typed, not the expected dynamically typed one";
            else
              result = caf::actor_cast<caf::actor>(std::move(ptr));
          },
          [&](caf::error& err) {
            if (err == caf::sec::request_timeout)
              failure = fmt::format("no answer within {} ms", timeout.count());
            else
              failure = sys.render(err);
            if (tls && err == caf::sec::disconnect_during_handshake)
              failure += " (the TLS handshake or the peer refused us: check --cert/--key/--ca)";
          });
  if (!result) throw RemoteError(fmt::format("cannot connect to {}{}: {}", to.to_string(), tls ? " over TLS" : "", failure));
  return result;
}

caf::actor connect_to(caf::actor_system& sys, const Endpoint& to, bool tls) {
  return connect_to(sys, to, tls, std::chrono::seconds(30));
}

uint64_t refused_handshakes() { return tls_gate_refusals(); }

}  // namespace ktstr::cli
