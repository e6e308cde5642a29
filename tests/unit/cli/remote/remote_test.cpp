// Credentials (init_ca, check_credentials) and the network layer (listen_on, connect_to) of
// remote workers: several actor systems in this process talking over 127.0.0.1, mutual
// TLS, and the clients a worker must refuse and log (no certificate, another CA's, plain TCP).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "apps/cli/remote/credentials.hpp"
#include "apps/cli/remote/network.hpp"
#include "tests/support/cli.hpp"

using namespace ktstr::cli;
namespace fs = std::filesystem;

namespace {

using namespace std::chrono_literals;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

Credentials worker_of(const CaFiles& f) { return {f.worker_cert, f.worker_key, f.ca_cert}; }
Credentials client_of(const CaFiles& f) { return {f.client_cert, f.client_key, f.ca_cert}; }

/// One actor system with its own configuration, as one process of a pool would have.
struct Node {
  enum class Kind { creds, openssl_without_creds, plain };
  caf::actor_system_config cfg;
  std::optional<caf::actor_system> sys;
  std::vector<caf::actor> owned;

  explicit Node(const Credentials& creds, Kind kind = Kind::creds) {
    cfg.set("scheduler.max-threads", 2);
    configure_network(cfg, kind == Kind::creds ? creds : Credentials{});
    if (kind == Kind::openssl_without_creds) cfg.load<caf::openssl::manager>();
    sys.emplace(cfg);
  }
  ~Node() { stop(); }
  /// Ends the actors it spawned (the system waits for them), then the system.
  void stop() {
    for (auto& a : owned) caf::anon_send_exit(a, caf::exit_reason::kill);
    owned.clear();
    sys.reset();
  }
};

/// Answers a string with the string reversed; counts what it received.
caf::actor spawn_reverser(Node& node, std::shared_ptr<std::atomic<int>> received) {
  auto a = node.sys->spawn([received](caf::event_based_actor*) -> caf::behavior {
    return {[received](const std::string& s) {
      ++*received;
      return std::string(s.rbegin(), s.rend());
    }};
  });
  node.owned.push_back(a);
  return a;
}

std::string ask(Node& node, const caf::actor& whom, const std::string& text) {
  caf::scoped_actor self{*node.sys};
  std::string answer;
  self->request(whom, 5s, text)
      .receive([&](std::string& r) { answer = r; },
               [&](caf::error& e) { answer = "error: " + node.sys->render(e); });
  return answer;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

/// Everything spdlog writes while it lives (the gate logs on the middleman's thread).
struct LogCapture {
  std::ostringstream text;
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  LogCapture() {
    auto logger = std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(text));
    logger->set_pattern("%l %v");
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous); }
};

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("remote: endpoints parse HOST:PORT and [v6]:PORT, loopback is recognised", "[remote]") {
  auto a = parse_endpoint("127.0.0.1:7000");
  CHECK(a.host == "127.0.0.1");
  CHECK(a.port == 7000);
  CHECK(a.to_string() == "127.0.0.1:7000");
  auto b = parse_endpoint("[::1]:7001");
  CHECK(b.host == "::1");
  CHECK(b.to_string() == "[::1]:7001");
  CHECK(parse_endpoint("worker-3.lab:0", true).port == 0);
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", ":7000", "host:0", "host:65536", "host:7x", "::1:7000", "[::1]7000",
                          "[nope]:7000", ""}) {
    try {
      parse_endpoint(bad);
      FAIL("accepted " << bad);
    } catch (const RemoteError& e) {
      CHECK(std::string(e.what()).find(std::string("\"") + bad + "\"") != std::string::npos);
    }
  }
  CHECK(is_loopback("127.0.0.1"));
  CHECK(is_loopback("127.3.2.1"));
  CHECK(is_loopback("::1"));
  CHECK(is_loopback("[::1]"));
  CHECK(is_loopback("localhost"));
  CHECK_FALSE(is_loopback("10.0.0.1"));
  CHECK_FALSE(is_loopback("::"));
  CHECK_FALSE(is_loopback("example.org"));
}

TEST_CASE("remote: init_ca writes a CA, worker and client pair - check_credentials says what is wrong", "[remote]") {
  const fs::path root = ktstr::test::scratch_dir("remote-ca");
  const CaFiles f = init_ca(root / "pool", 30);
  CHECK(mode_of(root / "pool") == 0700);
  for (const auto& key : {f.ca_key, f.worker_key, f.client_key}) CHECK(mode_of(key) == 0600);
  for (const auto& cert : {f.ca_cert, f.worker_cert, f.client_cert}) CHECK(fs::file_size(cert) > 100);
  CHECK(f.worker_cert == root / "pool" / "worker.crt");

  // Never over a pool's keys.
  try {
    init_ca(root / "pool");
    FAIL("init_ca wrote over an existing pool");
  } catch (const RemoteError& e) {
    const std::string what = e.what();
    CHECK(what.find("exists already") != std::string::npos);
    CHECK(what.find('\n') == std::string::npos);
  }

  CHECK(check_credentials(worker_of(f)) == std::nullopt);
  CHECK(check_credentials(client_of(f)) == std::nullopt);

  auto problem = [](const Credentials& c) {
    auto why = check_credentials(c);
    REQUIRE(why.has_value());
    INFO(*why);
    CHECK(why->find('\n') == std::string::npos);
    return *why;
  };
  const CaFiles other = init_ca(root / "other", 30);
  CHECK(problem({f.worker_cert, f.client_key, f.ca_cert}).find("is not the private key of --cert") !=
        std::string::npos);
  const std::string foreign = problem({other.worker_cert, other.worker_key, f.ca_cert});
  CHECK(foreign.find("does not verify against --ca") != std::string::npos);
  CHECK(foreign.find("unable to get local issuer certificate") != std::string::npos);
  CHECK(problem({root / "nope.crt", f.worker_key, f.ca_cert}).find("--cert " + (root / "nope.crt").string() +
                                                                    ": no such file") != std::string::npos);
  CHECK(problem({f.worker_cert, f.worker_key, root / "nope.crt"}).find("--ca") != std::string::npos);
  CHECK(problem({f.worker_cert, {}, f.ca_cert}).find("--key is missing") != std::string::npos);
  CHECK(problem({f.worker_cert, f.worker_key, {}}).find("--ca is missing") != std::string::npos);
  CHECK(problem({{}, f.worker_key, f.ca_cert}).find("--cert is missing") != std::string::npos);
  std::ofstream(root / "junk.crt") << "not a certificate\n";
  CHECK(problem({root / "junk.crt", f.worker_key, f.ca_cert}).find("not a PEM certificate") != std::string::npos);
  CHECK(problem({f.worker_cert, root / "junk.crt", f.ca_cert}).find("not an unencrypted PEM private key") !=
        std::string::npos);
  fs::remove_all(root);
}

TEST_CASE("remote: mutual TLS between a worker and a client of the same CA", "[remote]") {
  const fs::path root = ktstr::test::scratch_dir("remote-mtls");
  const CaFiles f = init_ca(root / "pool", 30);
  const uint64_t refused_before = refused_handshakes();
  auto received = std::make_shared<std::atomic<int>>(0);
  Node server(worker_of(f));
  const uint16_t port = listen_on(*server.sys, spawn_reverser(server, received), {"127.0.0.1", 0}, true);
  REQUIRE(port != 0);
  {
    Node client(client_of(f));
    caf::actor remote = connect_to(*client.sys, {"127.0.0.1", port}, true, 5s);
    CHECK(ask(client, remote, "hello worker") == "rekrow olleh");
    CHECK(ask(client, remote, "abc") == "cba");
    const std::string big(200000, 'x');
    CHECK(ask(client, remote, big + "y") == "y" + big);
  }
  CHECK(received->load() == 3);
  CHECK(refused_handshakes() == refused_before);
  fs::remove_all(root);
}

TEST_CASE("remote: a worker refuses and logs clients without our certificate, another CA's, or plain TCP",
          "[remote]") {
  LogCapture log;  // first: outlives the systems whose threads write to it
  const fs::path root = ktstr::test::scratch_dir("remote-refused");
  const CaFiles f = init_ca(root / "pool", 30);
  const CaFiles other = init_ca(root / "other", 30);
  auto received = std::make_shared<std::atomic<int>>(0);
  Node server(worker_of(f));
  const uint16_t port = listen_on(*server.sys, spawn_reverser(server, received), {"127.0.0.1", 0}, true);
  const Endpoint at{"127.0.0.1", port};

  auto expect_refused = [&](const char* what, Node::Kind kind, const Credentials& creds, bool tls) {
    INFO(what);
    const uint64_t before = refused_handshakes();
    const auto start = std::chrono::steady_clock::now();
    {
      Node client(creds, kind);
      try {
        connect_to(*client.sys, at, tls, 5s);
        FAIL("connected");
      } catch (const RemoteError& e) {
        WARN(what << ": " << e.what());
        CHECK(std::string(e.what()).find("cannot connect to 127.0.0.1:" + std::to_string(port)) != std::string::npos);
      }
    }
    CHECK(wait_until([&] { return refused_handshakes() >= before + 1; }, 5s));
    std::this_thread::sleep_for(100ms);  // one refusal per client, not more
    CHECK(refused_handshakes() == before + 1);
    CHECK(received->load() == 0);
    CHECK(std::chrono::steady_clock::now() - start < 8s);
  };
  expect_refused("no certificate (anonymous cipher)", Node::Kind::openssl_without_creds, {}, true);
  expect_refused("another CA's certificate", Node::Kind::creds, client_of(other), true);
  expect_refused("plain TCP", Node::Kind::plain, {}, false);

  // A TCP connection that closes before its handshake is refused too; one that stays open
  // without a word is not (yet): the worker cannot tell it from a slow client.
  auto raw_connect = [&] {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0);
    return fd;
  };
  {
    const uint64_t before = refused_handshakes();
    int silent = raw_connect();
    rusage r0{};
    ::getrusage(RUSAGE_SELF, &r0);
    std::this_thread::sleep_for(300ms);
    rusage r1{};
    ::getrusage(RUSAGE_SELF, &r1);
    auto cpu_ms = [](const rusage& r) { return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000.0 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1000.0; };
    // The gate holds the worker's first bytes until the handshake is done: a silent peer
    // costs nothing (CAF's own scribe spins the multiplexer's thread meanwhile).
    CHECK(cpu_ms(r1) - cpu_ms(r0) < 150);
    CHECK(refused_handshakes() == before);
    ::close(silent);
    CHECK(wait_until([&] { return refused_handshakes() == before + 1; }, 5s));
    ::close(raw_connect());
    CHECK(wait_until([&] { return refused_handshakes() == before + 2; }, 5s));
  }

  // The worker still serves a client of its own CA after refusing those.
  {
    Node client(client_of(f));
    CHECK(ask(client, connect_to(*client.sys, at, true, 5s), "ok") == "ko");
  }
  server.stop();
  const std::string text = log.text.str();
  WARN("the worker's log:\n" << text);
  CHECK(count_of(text, "warning refused a connection from 127.0.0.1:") == 5);
  CHECK(count_of(text, "during the TLS handshake: ") == 5);
  CHECK(text.find("peer did not return a certificate") != std::string::npos);
  fs::remove_all(root);
}

TEST_CASE("remote: plain TCP on loopback without credentials", "[remote]") {
  auto received = std::make_shared<std::atomic<int>>(0);
  Node server({}, Node::Kind::plain);
  const uint16_t port = listen_on(*server.sys, spawn_reverser(server, received), {"127.0.0.1", 0}, false);
  REQUIRE(port != 0);
  {
    Node client({}, Node::Kind::plain);
    caf::actor remote = connect_to(*client.sys, {"127.0.0.1", port}, false, 5s);
    CHECK(ask(client, remote, "plain") == "nialp");
    // TLS asked of a system without credentials: refused before any connection.
    CHECK_THROWS_AS(connect_to(*client.sys, {"127.0.0.1", port}, true, 5s), RemoteError);
  }
  CHECK(received->load() == 1);
  // Nobody listening: a prompt error naming the endpoint.
  Node lonely({}, Node::Kind::plain);
  try {
    connect_to(*lonely.sys, {"127.0.0.1", 1}, false, 5s);
    FAIL("connected to port 1");
  } catch (const RemoteError& e) {
    CHECK(std::string(e.what()).find("127.0.0.1:1") != std::string::npos);
  }
}
