// The job / status files cross the host <-> outer-guest boundary: both parsers must
// reject anything malformed rather than guess.
#include "apps/protocol/nested_job.hpp"

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

TEST_CASE("nested job carries read-only shares as share-ro records", "[nested]") {
  Job job{"/tmp/work", {"true"}, {}, {{"ktstr_rw0", "/tmp/work/out"}, {"ktstr_ro0", "/tmp/work", true}}};
  const std::string bytes = encode_job(job);
  CHECK(bytes.find("\0share-ro\0ktstr_ro0\0/tmp/work\0"s) != std::string::npos);
  CHECK(bytes.find("\0share\0ktstr_rw0\0/tmp/work/out\0"s) != std::string::npos);
  std::string error;
  auto back = decode_job(bytes, error);
  REQUIRE(back);
  REQUIRE(back->shares.size() == 2);
  CHECK_FALSE(back->shares[0].read_only);
  CHECK(back->shares[1].read_only);
  CHECK(back->shares[1].path == "/tmp/work");
  const std::string head = std::string(job_magic) + "\0cwd\0/\0arg\0x\0"s;
  CHECK_FALSE(decode_job(head + "share-ro\0bad tag!\0/x\0"s, error));
  CHECK(error == "job share tag is invalid");
  CHECK_FALSE(decode_job(head + "share-ro\0t\0relative\0"s, error));
  CHECK(error == "job share path is not an absolute path below /");
  CHECK_FALSE(decode_job(head + "share-ro\0t\0/\0"s, error));
  CHECK_FALSE(decode_job(head + "share-ro\0t\0"s, error));
  CHECK(error == "job record 'share-ro' truncated");
  CHECK_FALSE(decode_job(head + "share\0t\0/a\0share-ro\0t\0/b\0"s, error));
  CHECK(error == "job share tag 't' used twice");
}

TEST_CASE("the nested host's hidden places are the scratch directories and what lies below them", "[nested]") {
  for (const char* hidden : {"/tmp", "/tmp/x", "/tmp/x/y", "/var/tmp/a", "/run", "/run/user/0", "/dev/shm/s"})
    CHECK(hidden_in_nested_host(hidden));
  for (const char* shown : {"/", "/tmpx", "/tmp-x/y", "/var", "/var/tmpx", "/running", "/dev", "/home/u/tmp", "/work"})
    CHECK_FALSE(hidden_in_nested_host(shown));
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

TEST_CASE("nested status decoding accepts the four forms and nothing else", "[nested]") {
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
  auto refused = decode_status("refused working directory /tmp/x cannot be entered\n", error);
  REQUIRE(refused);
  CHECK(refused->kind == Status::Kind::refused);
  CHECK(refused->message == "working directory /tmp/x cannot be entered");
  CHECK(encode_status({Status::Kind::refused, 0, "no\ncwd"}) == "refused no?cwd\n");
  CHECK(encode_status({Status::Kind::error, 0, "two\nlines"}) == "error two?lines\n");
  CHECK_FALSE(decode_status("exit 7", error));
  CHECK_FALSE(decode_status("exit 256\n", error));
  CHECK_FALSE(decode_status("exit -1\n", error));
  CHECK_FALSE(decode_status("exit 1\nexit 2\n", error));
  CHECK_FALSE(decode_status("signal 0\n", error));
  CHECK_FALSE(decode_status("exit 00007\n", error));
  CHECK_FALSE(decode_status("hello\n", error));
  CHECK_FALSE(decode_status(std::string(max_status_bytes + 1, 'x'), error));
}
