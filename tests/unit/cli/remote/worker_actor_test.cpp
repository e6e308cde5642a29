// The worker actor in this process (no network): jobs from two clients; a client that
// breaks the protocol loses its job and nothing else; slots bound the jobs; a client
// cannot touch another's job; results and output come back to the client.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include "actors/runtime_config.hpp"
#include "apps/cli/kernel/file_digest.hpp"
#include "apps/cli/remote/worker.hpp"
#include "messages/worker.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/fake_run.hpp"

using namespace ktstr;
using namespace ktstr::cli;
namespace fs = std::filesystem;

namespace {

constexpr auto kWait = std::chrono::seconds(20);

msg::job_accepted offer(caf::scoped_actor& self, const caf::actor& worker, const msg::vm_job& job) {
  msg::job_accepted a;
  self->request(worker, kWait, msg::job_offer{job}).receive([&](msg::job_accepted& x) { a = x; },
                                                           [&](caf::error&) { FAIL("no answer to the offer"); });
  return a;
}

msg::chunk_ack chunk(caf::scoped_actor& self, const caf::actor& worker, msg::file_chunk c) {
  msg::chunk_ack ack;
  self->request(worker, kWait, std::move(c)).receive([&](msg::chunk_ack& x) { ack = x; },
                                                     [&](caf::error&) { FAIL("no answer to a chunk"); });
  return ack;
}

msg::job_started start(caf::scoped_actor& self, const caf::actor& worker, uint64_t id) {
  msg::job_started s;
  self->request(worker, kWait, msg::job_start{id}).receive([&](msg::job_started& x) { s = x; },
                                                          [&](caf::error&) { FAIL("no answer to the start"); });
  return s;
}

}  // namespace

TEST_CASE("worker actor: a protocol breach drops that job alone - jobs run with their files, bounded by slots, "
          "and stream output, results and the end to their client",
          "[remote]") {
  const auto dir = test::scratch_dir("worker-actor");
  const auto kernel = dir / "bzImage";
  {
    std::ofstream out(kernel, std::ios::binary);
    for (int i = 0; i < 300000; ++i) out << static_cast<char>(i * 7);
  }
  const auto sha = file_sha256(kernel).value();
  const auto size = fs::file_size(kernel);
  caf::actor_system_config cfg;
  actors::configure_runtime(cfg);
  caf::actor_system sys{cfg};
  WorkerConfig wc;
  wc.slots = 2;
  wc.cache_dir = dir / "cache";
  wc.jobs_dir = dir / "jobs";
  wc.program = test::write_remote_fake_run(dir);
  wc.host_name = "test";
  auto worker = sys.spawn(worker_actor, wc);
  caf::scoped_actor a{sys}, b{sys};
  msg::vm_job job;
  job.name = "j";
  job.topology = "1,1,2,1";
  job.timeout_s = 1;
  job.kernel = {sha, size, "bzImage"};

  // A: the file starts at the wrong offset: refused, the job is gone.
  auto ja = offer(a, worker, job);
  REQUIRE(ja.refused.empty());
  REQUIRE(ja.missing == std::vector<std::string>{sha});
  auto bad = chunk(a, worker, msg::file_chunk{ja.job_id, sha, 4096, std::vector<char>(10, 'x')});
  CHECK_THAT(bad.error, Catch::Contains("offset 4096 where 0"));
  CHECK(start(a, worker, ja.job_id).error == "no such job of yours");

  // B: the whole file, in order; A cannot start or cancel B's job.
  auto jb = offer(b, worker, job);
  REQUIRE(jb.refused.empty());
  std::ifstream in(kernel, std::ios::binary);
  std::vector<char> buf(100000);
  uint64_t offset = 0;
  msg::chunk_ack ack;
  while (!ack.complete) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<size_t>(in.gcount());
    REQUIRE(n > 0);
    ack = chunk(b, worker, msg::file_chunk{jb.job_id, sha, offset, std::vector<char>(buf.begin(), buf.begin() + static_cast<long>(n))});
    REQUIRE(ack.error.empty());
    offset += n;
  }
  CHECK(ack.received == size);
  CHECK(start(a, worker, jb.job_id).error == "no such job of yours");

  // Slots: B's job holds one; two more offers: one accepted, the next refused as full.
  auto extra = offer(a, worker, job);
  CHECK(extra.refused.empty());
  CHECK(extra.missing.empty());  // the file is cached now
  auto full = offer(a, worker, job);
  CHECK(full.refused == "full: 2 of 2 slots busy");

  auto started = start(b, worker, jb.job_id);
  REQUIRE(started.error.empty());
  CHECK(started.pid > 0);
  std::vector<std::string> lines;
  std::map<std::string, std::string> files;
  msg::job_done done;
  bool ended = false;
  b->receive_while([&] { return !ended; })(
      [&](const msg::job_output& o) { lines.push_back(o.line); },
      [&](const msg::result_chunk& c) { files[c.path].append(c.data.begin(), c.data.end()); },
      [&](const msg::job_done& d) {
        done = d;
        ended = true;
      },
      caf::after(kWait) >> [&] {
        ended = true;
        FAIL("the job never ended");
      });
  CHECK(done.exit_code == 0);
  CHECK(done.error.empty());
  CHECK(lines == std::vector<std::string>{"fake run: starting", "fake run: done"});
  REQUIRE(files.count("result.json"));
  const auto result = nlohmann::json::parse(files["result.json"]);
  CHECK(result["kernel_sha256"] == sha);
  CHECK(files["dumps/freeze-1.txt"] == "dump\n");
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
  {
    std::error_code ec;  // a worker may still be removing a finished job's folder
    fs::remove_all(dir, ec);
  }
}
