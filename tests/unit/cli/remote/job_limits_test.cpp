// What a worker and its clients accept of each other: names, result paths, job shapes.
#include <catch2/catch.hpp>

#include "apps/cli/remote/job_argv.hpp"
#include "apps/cli/remote/job_limits.hpp"

using namespace ktstr;
using namespace ktstr::cli;

namespace {

msg::vm_job good_job() {
  msg::vm_job j;
  j.name = "base";
  j.topology = "1,1,2,1";
  j.kernel = {std::string(64, 'a'), 1000, "bzImage"};
  return j;
}

}  // namespace

TEST_CASE("job limits: file names, hashes and result paths from a peer are plain", "[remote]") {
  CHECK(valid_file_name("scx_simple"));
  CHECK(valid_file_name("vmlinuz-6.12.0+"));
  CHECK_FALSE(valid_file_name(""));
  CHECK_FALSE(valid_file_name(".."));
  CHECK_FALSE(valid_file_name(".hidden"));
  CHECK_FALSE(valid_file_name("-rf"));
  CHECK_FALSE(valid_file_name("a/b"));
  CHECK_FALSE(valid_file_name("a b"));
  CHECK_FALSE(valid_file_name(std::string(65, 'x')));
  CHECK(valid_sha256(std::string(64, '0')));
  CHECK_FALSE(valid_sha256(std::string(64, 'A')));
  CHECK_FALSE(valid_sha256(std::string(63, '0')));
  CHECK(valid_result_path("result.json"));
  CHECK(valid_result_path("dumps/freeze-1.json"));
  CHECK_FALSE(valid_result_path("../x"));
  CHECK_FALSE(valid_result_path("/etc/passwd"));
  CHECK_FALSE(valid_result_path("a//b"));
  CHECK_FALSE(valid_result_path("a/"));
  CHECK_FALSE(valid_result_path("a/b/c/d/e/f/g/h/i"));
}

TEST_CASE("job limits: a malformed job is refused with one line naming what is wrong", "[remote]") {
  CHECK_FALSE(check_job(good_job()));
  auto j = good_job();
  j.kernel.sha256.clear();
  CHECK(check_job(j).value() == "the job has no kernel");
  j = good_job();
  j.kernel.name = "../../etc/passwd";
  CHECK(check_job(j).value() == "the kernel's name is not a plain file name");
  j = good_job();
  j.kernel.size = kMaxJobFileBytes + 1;
  CHECK_THAT(check_job(j).value(), Catch::Contains("the kernel is"));
  j = good_job();
  j.payload = {"hackbench"};
  CHECK(check_job(j).value() == "a payload needs its program, and a program its payload");
  j = good_job();
  j.topology = "--scheduler=/bin/sh";
  CHECK_THAT(check_job(j).value(), Catch::Contains("starts with '-'"));
  j = good_job();
  j.faults = {"vcpu_stall:1@5+3\n--x"};
  CHECK_THAT(check_job(j).value(), Catch::Contains("control character"));
  j = good_job();
  j.scheduler_args.assign(kMaxJobArgs + 1, "-v");
  CHECK_THAT(check_job(j).value(), Catch::Contains("more than"));
}

TEST_CASE("job argv: the worker's run command line holds the job's fields and its own paths only", "[remote]") {
  auto j = good_job();
  j.memory_mib = 1024;
  j.timeout_s = 90;
  j.scheduler = {std::string(64, 'b'), 10, "scx_qmap"};
  j.scheduler_args = {"-e", "100"};
  j.faults = {"vcpu_stall:1@5+3"};
  j.payload = {"hackbench", "-g", "2"};
  j.payload_program = {std::string(64, 'c'), 10, "hackbench"};
  j.scenario = "cpu-spin";
  JobPaths p{"/w/jobs/1/files/kernel/bzImage", "/w/jobs/1/files/scheduler/scx_qmap", "", "/w/jobs/1/files/payload/hackbench",
             "/w/jobs/1/out"};
  const auto a = job_run_argv(j, p, "/usr/bin/ktstr-actors", "kvm");
  const std::vector<std::string> want = {"/usr/bin/ktstr-actors", "run", "--host=kvm", "--topology", "1,1,2,1", "--out",
                                         "/w/jobs/1/out", "--json", "/w/jobs/1/out/result.json", "--kernel",
                                         "/w/jobs/1/files/kernel/bzImage", "--memory", "1024", "--timeout", "90",
                                         "--scenario", "cpu-spin", "--fault", "vcpu_stall:1@5+3", "--payload",
                                         "/w/jobs/1/files/payload/hackbench -g 2", "--scheduler",
                                         "/w/jobs/1/files/scheduler/scx_qmap", "--", "-e", "100"};
  CHECK(a == want);
}
