// The job / status files cross the host <-> outer-guest boundary: both parsers must
// reject anything malformed rather than guess.
#include "apps/nested_init/job.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace ktstr::nested;
using namespace std::string_literals;

TEST_CASE("nested job round-trips argv with spaces, newlines and empty strings", "[nested]") {
  Job job{"/work/build", {"sh", "-c", "echo 'a b'\nexit 3", ""}, {"PATH=/usr/bin:/bin", "EMPTY="},
          {{"ktstr_rw0", "/work/build"}}};
  std::string error;
  auto back = decode_job(encode_job(job), error);
  REQUIRE(back);
  CHECK(back->cwd == job.cwd);
  CHECK(back->argv == job.argv);
  CHECK(back->env == job.env);
  REQUIRE(back->shares.size() == 1);
  CHECK(back->shares[0].tag == "ktstr_rw0");
  CHECK(back->shares[0].path == "/work/build");
}

TEST_CASE("nested job decoding rejects malformed files", "[nested]") {
  const std::string good = encode_job({"/", {"true"}, {}, {}});
  std::string error;
  CHECK_FALSE(decode_job(good.substr(0, good.size() - 1), error));
  CHECK(error == "job file truncated");
  CHECK_FALSE(decode_job("not-a-job\0"s, error));
  CHECK_FALSE(decode_job(std::string(job_magic) + "\0cwd\0relative\0arg\0x\0"s, error));
  CHECK(error == "job cwd is not an absolute path");
  CHECK_FALSE(decode_job(std::string(job_magic) + "\0cwd\0/\0"s, error));
  CHECK(error == "job has no command");
  CHECK_FALSE(decode_job(std::string(job_magic) + "\0cwd\0/\0arg\0x\0share\0bad tag!\0/x\0"s, error));
  CHECK(error == "job share tag is invalid");
  CHECK_FALSE(decode_job(std::string(job_magic) + "\0cwd\0/\0arg\0x\0share\0t\0/a/../b\0"s, error));
  CHECK_FALSE(decode_job(std::string(job_magic) + "\0cwd\0/\0arg\0x\0env\0NOEQUALS\0"s, error));
  CHECK_FALSE(decode_job(std::string(job_magic) + "\0cwd\0/\0arg\0x\0bogus\0y\0"s, error));
  CHECK(error == "unknown job record 'bogus'");
  CHECK_FALSE(decode_job(std::string(max_job_bytes + 1, '\0'), error));
  CHECK_THROWS_AS(encode_job({"/", {"a\0b"s}, {}, {}}), std::invalid_argument);
}

TEST_CASE("nested status decoding accepts the three forms and nothing else", "[nested]") {
  std::string error;
  auto exited = decode_status("exit 7\n", error);
  REQUIRE(exited);
  CHECK(exited->kind == Status::Kind::exited);
  CHECK(exited->code == 7);
  auto signalled = decode_status("signal 9\n", error);
  REQUIRE(signalled);
  CHECK(signalled->kind == Status::Kind::signalled);
  CHECK(signalled->code == 9);
  auto failed = decode_status("error cannot mount \x1b[31m\n", error);
  REQUIRE(failed);
  CHECK(failed->kind == Status::Kind::error);
  CHECK(failed->message == "cannot mount ?[31m");  // no terminal escapes from the guest
  CHECK_FALSE(decode_status("exit 7", error));
  CHECK_FALSE(decode_status("exit 256\n", error));
  CHECK_FALSE(decode_status("exit -1\n", error));
  CHECK_FALSE(decode_status("exit 1\nexit 2\n", error));
  CHECK_FALSE(decode_status("signal 0\n", error));
  CHECK_FALSE(decode_status("exit 00007\n", error));
  CHECK_FALSE(decode_status("hello\n", error));
  CHECK_FALSE(decode_status(std::string(max_status_bytes + 1, 'x'), error));
}
