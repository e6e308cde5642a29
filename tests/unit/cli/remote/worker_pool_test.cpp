// Workers as users run them: `ktstr-actors worker` processes on loopback (a stand-in for
// `run` behind them) and `ktstr-actors experiment --workers`: runs spread, files arrive
// intact, a killed worker's runs are lost or run again, bad addresses are refused.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/kernel/file_digest.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/fake_run.hpp"
#include "tests/support/worker_process.hpp"

using namespace ktstr;
using namespace ktstr::cli;
namespace fs = std::filesystem;

namespace {

fs::path random_file(const fs::path& path, size_t bytes) {
  std::mt19937_64 rng(42);
  std::ofstream out(path, std::ios::binary);
  std::vector<uint64_t> block(8192);
  for (size_t done = 0; done < bytes; done += block.size() * 8) {
    for (auto& v : block) v = rng();
    out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(std::min(bytes - done, block.size() * 8)));
  }
  return path;
}

fs::path write_experiment(const fs::path& dir, const fs::path& kernel, int vms, int timeout_s, const std::string& extra = "") {
  const auto file = dir / "pool.toml";
  std::ofstream out(file);
  out << "name = \"pool\"\n" << extra << "[defaults]\nkernel = \"" << kernel.string() << "\"\ntimeout = " << timeout_s << "\n";
  for (int i = 0; i < vms; ++i) out << "[[vm]]\nname = \"vm" << i << "\"\n";
  return file;
}

std::map<std::string, nlohmann::json> by_name(const nlohmann::json& j) {
  std::map<std::string, nlohmann::json> by;
  for (const auto& v : j["vms"]) by[v["name"].get<std::string>()] = v;
  return by;
}

std::set<std::string> keys(const nlohmann::json& o) {
  std::set<std::string> k;
  for (const auto& [key, v] : o.items()) k.insert(key);
  return k;
}

}  // namespace

TEST_CASE("worker pool: runs spread over two workers, a 64 MiB kernel arrives intact, results as a local run's plus "
          "where each ran",
          "[remote]") {
  const auto dir = test::scratch_dir("worker-pool");
  const auto fake = test::write_remote_fake_run(dir);
  const auto kernel = random_file(dir / "bzImage", 64u << 20);
  const auto sha = file_sha256(kernel).value();
  auto w1 = test::start_worker({"--runner", fake.string(), "--cache", (dir / "w1").string()}, dir / "w1.log");
  auto w2 = test::start_worker({"--runner", fake.string(), "--cache", (dir / "w2").string()}, dir / "w2.log");
  REQUIRE(w1->port);
  REQUIRE(w2->port);
  const auto file = write_experiment(dir, kernel, 4, 5);
  auto r = test::run_cli({"experiment", file.string(), "--host", "kvm", "--jobs", "0", "--workers",
                          w1->address() + "," + w2->address(), "--out", (dir / "remote").string()},
                         {}, 120);
  INFO(r.output << "\n--- worker 1:\n" << w1->output() << "\n--- worker 2:\n" << w2->output());
  CHECK(r.exit_code == exit_pass);
  const auto remote = test::read_json(dir / "remote" / "experiment.json");
  REQUIRE(remote.is_object());
  std::set<std::string> hosts;
  for (auto& [name, v] : by_name(remote)) {
    CHECK(v["met"] == true);
    CHECK(v["result"]["kernel_sha256"] == sha);  // 64 MiB through the worker's cache, unchanged
    CHECK(v["where"]["mode"] == "remote");
    hosts.insert(v["where"]["host"].get<std::string>());
    CHECK(test::slurp(dir / "remote" / name / "dumps" / "freeze-1.txt") == "dump\n");
    CHECK_THAT(test::slurp(dir / "remote" / name / "run.log"), Catch::Contains("fake run: done"));
  }
  CHECK(hosts == std::set<std::string>{"worker " + w1->address(), "worker " + w2->address()});
  // Each worker received the kernel once, however many of its runs used it.
  CHECK(w1->output().find("1 file(s) to receive") != std::string::npos);
  CHECK(w2->output().find("1 file(s) to receive") != std::string::npos);

  // The same experiment here: the same structure and results, only `where` differs.
  auto local = test::run_cli({"experiment", file.string(), "--host", "kvm", "--jobs", "2", "--runner", fake.string(),
                              "--out", (dir / "local").string()},
                             {}, 120);
  CHECK(local.exit_code == exit_pass);
  const auto here = test::read_json(dir / "local" / "experiment.json");
  REQUIRE(here.is_object());
  CHECK(keys(here) == keys(remote));
  auto l = by_name(here), rm = by_name(remote);
  REQUIRE(l.size() == rm.size());
  for (auto& [name, v] : l) {
    CHECK(keys(v) == keys(rm[name]));
    CHECK(v["result"] == rm[name]["result"]);
    CHECK(v["where"]["host"] == "local");
  }
  {
    std::error_code ec;  // a worker may still be removing a finished job's folder
    fs::remove_all(dir, ec);
  }
}

TEST_CASE("worker pool: a worker killed mid-run has its runs reported lost while the others finish - with retry = 1 "
          "they run again on the other worker",
          "[remote]") {
  for (const bool retry : {false, true}) {
    DYNAMIC_SECTION((retry ? "retry = 1" : "no retry")) {
      const auto dir = test::scratch_dir(retry ? "worker-kill-retry" : "worker-kill");
      const auto fake = test::write_remote_fake_run(dir);
      const auto kernel = random_file(dir / "bzImage", 1u << 20);
      auto w1 = test::start_worker({"--runner", fake.string(), "--cache", (dir / "w1").string()}, dir / "w1.log");
      auto w2 = test::start_worker({"--runner", fake.string(), "--cache", (dir / "w2").string()}, dir / "w2.log");
      REQUIRE(w1->port);
      REQUIRE(w2->port);
      const auto file = write_experiment(dir, kernel, 3, 30, retry ? "retry = 1\n" : "");
      test::CliResult r;
      std::thread experiment([&] {
        r = test::run_cli({"experiment", file.string(), "--host", "kvm", "--jobs", "0", "--workers",
                           w1->address() + "," + w2->address(), "--out", (dir / "out").string()},
                          {}, 120);
      });
      // Kill worker 1 once it runs a job (3 s each: it is mid-run).
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (w1->output().find("started for") == std::string::npos && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      w1->kill(SIGKILL);
      experiment.join();
      INFO(r.output << "\n--- worker 2:\n" << w2->output());
      const auto j = test::read_json(dir / "out" / "experiment.json");
      REQUIRE(j.is_object());
      int lost = 0, met = 0;
      for (auto& [name, v] : by_name(j)) {
        if (v["lost"] == true) {
          ++lost;
          CHECK_THAT(v["why"].get<std::string>(), Catch::Contains("worker " + w1->address() + " went away mid-run"));
          CHECK(v["verdict"] == "lost");
        }
        if (v["met"] == true) {
          ++met;
          CHECK(v["where"]["host"] == "worker " + w2->address());
        }
      }
      if (retry) {
        CHECK(r.exit_code == exit_pass);
        CHECK(met == 3);
        CHECK(lost == 0);
        CHECK_THAT(r.output, Catch::Contains("running it again (attempt 2 of 2)"));
      } else {
        CHECK(r.exit_code == exit_inconclusive);
        CHECK(lost == 1);
        CHECK(met == 2);
      }
      {
        std::error_code ec;  // a worker may still be removing a finished job's folder
        fs::remove_all(dir, ec);
      }
    }
  }
}

TEST_CASE("worker pool: a worker cut off mid-run (stopped: the connection stays open, nothing comes) is noticed by "
          "the heartbeat's timeout and its run reported lost - the other worker's runs finish",
          "[remote]") {
  const auto dir = test::scratch_dir("worker-cut");
  const auto fake = test::write_remote_fake_run(dir);
  const auto kernel = random_file(dir / "bzImage", 1u << 20);
  auto w1 = test::start_worker({"--runner", fake.string(), "--cache", (dir / "w1").string()}, dir / "w1.log");
  auto w2 = test::start_worker({"--runner", fake.string(), "--cache", (dir / "w2").string()}, dir / "w2.log");
  REQUIRE(w1->port);
  REQUIRE(w2->port);
  const auto file = write_experiment(dir, kernel, 2, 100);  // 10 s each
  test::CliResult r;
  std::thread experiment([&] {
    r = test::run_cli({"experiment", file.string(), "--host", "kvm", "--jobs", "0", "--workers",
                       w1->address() + "," + w2->address(), "--out", (dir / "out").string()},
                      {}, 120);
  });
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (w1->output().find("started for") == std::string::npos && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ::kill(w1->pid, SIGSTOP);
  const auto stopped = std::chrono::steady_clock::now();
  experiment.join();
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped).count();
  ::kill(w1->pid, SIGCONT);
  INFO(r.output);
  CHECK(r.exit_code == exit_inconclusive);
  CHECK(waited < 60);  // the connection timeout is 20 s after the last heartbeat
  const auto j = test::read_json(dir / "out" / "experiment.json");
  REQUIRE(j.is_object());
  int lost = 0, met = 0;
  for (auto& [name, v] : by_name(j)) {
    lost += v["lost"] == true;
    met += v["met"] == true;
    if (v["lost"] == true) CHECK_THAT(v["why"].get<std::string>(), Catch::Contains("worker " + w1->address()));
  }
  CHECK(lost == 1);
  CHECK(met == 1);
  {
    std::error_code ec;  // a worker may still be removing a finished job's folder
    fs::remove_all(dir, ec);
  }
}

TEST_CASE("worker pool: without credentials a worker listens on loopback only, an experiment sends to loopback only, "
          "a bad address is one line - each exit 89",
          "[remote]") {
  auto w = test::run_cli({"worker", "--listen", "0.0.0.0:0"}, {}, 20);
  CHECK(w.exit_code == exit_remote);
  CHECK_THAT(w.output, Catch::Contains("loopback only"));
  auto bad = test::run_cli({"worker", "--listen", "127.0.0.1:http"}, {}, 20);
  CHECK(bad.exit_code == exit_remote);
  auto x = test::run_cli({"experiment", "topology-sweep", "--workers", "192.0.2.7:7420", "--out", test::scratch_dir("pool-refuse").string()},
                         {}, 20);
  CHECK(x.exit_code == exit_remote);
  CHECK_THAT(x.output, Catch::Contains("is not on loopback"));
  // Nobody listening: the worker is named and not used; with no local slots nothing can run.
  auto none = test::run_cli({"experiment", "topology-sweep", "--host", "kvm", "--jobs", "0", "--workers", "127.0.0.1:1", "--out",
                             test::scratch_dir("pool-none").string()},
                            {}, 30);
  CHECK(none.exit_code == exit_remote);
  CHECK_THAT(none.output, Catch::Contains("worker 127.0.0.1:1: not used"));
}

TEST_CASE("worker pool over mutual TLS: the pool's client runs jobs - a client without a certificate, with another "
          "CA's or over plain TCP is refused, the worker logs it, and no job runs",
          "[remote]") {
  const auto dir = test::scratch_dir("worker-tls");
  const auto pool = dir / "pool", other = dir / "other";
  auto made = test::run_cli({"worker", "--init-ca", pool.string()}, {}, 30);
  REQUIRE(made.exit_code == exit_pass);
  REQUIRE(test::run_cli({"worker", "--init-ca", other.string()}, {}, 30).exit_code == exit_pass);
  auto again = test::run_cli({"worker", "--init-ca", pool.string()}, {}, 30);
  CHECK(again.exit_code == exit_remote);  // never overwrites a pool's keys
  const auto fake = test::write_remote_fake_run(dir);
  const auto kernel = random_file(dir / "bzImage", 1u << 20);
  auto w = test::start_worker({"--runner", fake.string(), "--cache", (dir / "w").string(), "--cert",
                               (pool / "worker.crt").string(), "--key", (pool / "worker.key").string(), "--ca",
                               (pool / "ca.crt").string()},
                              dir / "w.log");
  REQUIRE(w->port);
  CHECK_THAT(w->output(), Catch::Contains("mutual TLS"));
  const auto file = write_experiment(dir, kernel, 1, 1);
  auto experiment = [&](const std::vector<std::string>& creds, const std::string& out) {
    std::vector<std::string> args = {"experiment", file.string(), "--host", "kvm", "--jobs", "0", "--workers",
                                     w->address(), "--out", (dir / out).string()};
    args.insert(args.end(), creds.begin(), creds.end());
    return test::run_cli(args, {}, 90);
  };
  // Plain TCP (no credentials; the worker is on loopback so the client allows it).
  auto plain = experiment({}, "plain");
  CHECK(plain.exit_code == exit_remote);
  CHECK_THAT(plain.output, Catch::Contains("not used"));
  // Another pool's client certificate.
  auto foreign = experiment({"--cert", (other / "client.crt").string(), "--key", (other / "client.key").string(), "--ca",
                             (other / "ca.crt").string()},
                            "foreign");
  CHECK(foreign.exit_code == exit_remote);
  // A client that trusts our CA but shows no certificate is not possible from the CLI (it
  // needs all three); the in-process TLS test covers it.
  const auto refused_log = w->output();
  size_t refused = 0;
  for (size_t at = refused_log.find("refused a connection"); at != std::string::npos;
       at = refused_log.find("refused a connection", at + 1))
    ++refused;
  CHECK(refused >= 2);
  CHECK(refused_log.find("accepted from") == std::string::npos);  // no job from either
  // The pool's own client.
  auto ok = experiment({"--cert", (pool / "client.crt").string(), "--key", (pool / "client.key").string(), "--ca",
                        (pool / "ca.crt").string()},
                       "ok");
  INFO(ok.output << "\n--- worker:\n" << w->output());
  CHECK(ok.exit_code == exit_pass);
  CHECK_THAT(w->output(), Catch::Contains("accepted from"));

  // Rotation (docs/workers.md): both sides trust the old and the new CA for a while; a
  // worker with the old pool's certificate and a client with the new one's then agree.
  const auto both = dir / "both-ca.crt";
  std::ofstream(both) << test::slurp(pool / "ca.crt") << test::slurp(other / "ca.crt");
  auto w2 = test::start_worker({"--runner", fake.string(), "--cache", (dir / "w2").string(), "--cert",
                                (pool / "worker.crt").string(), "--key", (pool / "worker.key").string(), "--ca",
                                both.string()},
                               dir / "w2.log");
  REQUIRE(w2->port);
  auto rotated = test::run_cli({"experiment", file.string(), "--host", "kvm", "--jobs", "0", "--workers", w2->address(),
                                "--out", (dir / "rotated").string(), "--cert", (other / "client.crt").string(), "--key",
                                (other / "client.key").string(), "--ca", both.string()},
                               {}, 90);
  INFO(rotated.output << "\n--- worker 2:\n" << w2->output());
  CHECK(rotated.exit_code == exit_pass);
  {
    std::error_code ec;  // a worker may still be removing a finished job's folder
    fs::remove_all(dir, ec);
  }
}
