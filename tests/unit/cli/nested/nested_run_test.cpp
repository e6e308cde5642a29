// `run` through the nested software-KVM host must behave as it does on /dev/kvm: every
// option reaches the inner run (the scheduler's arguments last), and every path the user
// names works there, /tmp included (the nested host hides the host's /tmp behind a tmpfs:
// what the job needs from it is shared). The command-line tests run the real binary
// against a stand-in QEMU that records the job instead of booting anything.
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/nested/nested_host.hpp"
#include "apps/cli/nested/run_nested.hpp"
#include "apps/protocol/nested_job.hpp"
#include "tests/support/cli.hpp"
#include "tests/support/fake_bzimage.hpp"

using namespace ktstr;
using namespace ktstr::cli;
namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

namespace {

// A fresh directory under /tmp itself: the place the nested host hides.
struct TmpDir {
  fs::path path;
  explicit TmpDir(const std::string& name) {
    std::string tmpl = "/tmp/ktstr-" + name + "-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()));
    path = fs::canonical(tmpl);
  }
  ~TmpDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

RunOptions user_options() {
  RunOptions o;
  o.kernel = "/tmp/k/bzImage";
  o.topology = "1,2,2,1";
  o.memory_mib = 768;
  o.timeout_s = 90;
  o.json = "/tmp/w/r.json";
  o.out_dir = "/tmp/w/out";
  o.host = HostMode::nested;
  o.force_kvm = true;
  o.append = "-x loglevel=7";
  o.freeze_at_s = {1.5, 0.1};
  o.snapshots = 2;
  o.freeze_deadline_s = 20;
  o.stall_timeout_s = 60;
  o.perf_period_ms = 0;
  o.monitor_period_ms = 250;
  o.system_map = "/tmp/m/System.map";
  o.scenario = "/tmp/s/my.toml";
  o.scheduler = "/tmp/x/scx_qmap";
  o.scheduler_args = {"-e", "500", "--json", "--"};
  o.junit = "/tmp/j/junit.xml";
  o.assert_overrides = {"max_gap_ms=5000", "isolation=false"};
  return o;
}

}  // namespace

TEST_CASE("the inner run gets every option before the scheduler's arguments, which come last", "[nested]") {
  const RunOptions o = user_options();
  NestedRunInputs in{"/opt/ktstr/bin/ktstr-actors", "/tmp/k/bzImage", {"/tmp/lib/libelf.so.1"}, true};
  const NestedRunCommand cmd = nested_run_command(o, in);
  const Strings expected = {"/opt/ktstr/bin/ktstr-actors", "-v", "run", "--host=kvm", "--force-kvm",
                            "--kernel=/tmp/k/bzImage", "--topology=1,2,2,1", "--memory=768", "--timeout=90",
                            "--out=/tmp/w/out", "--json=/tmp/w/r.json", "--junit=/tmp/j/junit.xml",
                            "--append=-x loglevel=7", "--freeze-at=1.5", "--freeze-at=0.1", "--snapshots=2",
                            "--freeze-deadline=20", "--stall-timeout=60", "--perf-period=0",
                            "--monitor-period=250", "--system-map=/tmp/m/System.map", "--scenario=/tmp/s/my.toml", "--assert=max_gap_ms=5000", "--assert=isolation=false",
                            "--scheduler=/tmp/x/scx_qmap", "--", "-e", "500", "--json", "--"};
  CHECK(cmd.argv == expected);
  CHECK(cmd.readable == std::vector<fs::path>{"/opt/ktstr/bin", "/tmp/k", "/tmp/m", "/tmp/x", "/tmp/s", "/tmp/lib"});
  CHECK(cmd.writable == std::vector<fs::path>{"/tmp/w/out", "/tmp/w", "/tmp/j"});
}

TEST_CASE("the inner run leaves out what was not given", "[nested]") {
  RunOptions o;
  o.out_dir = "/work/ktstr-out/run-1";
  o.scenario = "steady";  // a built-in: no file to share
  const NestedRunCommand cmd = nested_run_command(o, {"/b/ktstr-actors", "/k/vmlinuz", {}, false});
  const Strings expected = {"/b/ktstr-actors", "run", "--host=kvm", "--kernel=/k/vmlinuz", "--topology=1,1,2,1",
                            "--memory=512", "--timeout=120", "--out=/work/ktstr-out/run-1", "--snapshots=0",
                            "--freeze-deadline=30", "--stall-timeout=120", "--scenario=steady"};
  CHECK(cmd.argv == expected);  // no --perf-period: the default is chosen where the VM runs; no default monitor period
  CHECK(cmd.readable == std::vector<fs::path>{"/b", "/k"});
  CHECK(cmd.writable == std::vector<fs::path>{"/work/ktstr-out/run-1"});

  o.scheduler = "/s/scx_simple";  // no arguments: no "--"
  CHECK(nested_run_command(o, {"/b/ktstr-actors", "/k/vmlinuz", {}, false}).argv.back() == "--scheduler=/s/scx_simple");
}

TEST_CASE("shares: hidden directories read-only, each once, parents first, writable ones read-write", "[nested]") {
  TmpDir t("shares");
  for (const char* d : {"A/sub", "A/out", "B", "C"}) fs::create_directories(t.path / d);
  fs::create_directory_symlink(t.path / "B", t.path / "A" / "link");
  fs::create_directory_symlink("/usr/share", t.path / "to-usr");
  fs::create_directory_symlink(t.path / "C", t.path / "to-c");

  auto plan = [&](NestedHostOptions o, const fs::path& cwd) {
    std::vector<PlannedShare> shares;
    auto error = plan_shares(o, cwd, shares);
    REQUIRE_FALSE(error);
    Strings text;
    for (const auto& s : shares)
      text.push_back((s.share.read_only ? "ro " : "rw ") + s.share.path + (s.host.string() == s.share.path ? "" : " <- " + s.host.string()));
    return text;
  };
  const std::string A = (t.path / "A").string(), B = (t.path / "B").string(), C = (t.path / "C").string();

  NestedHostOptions o;
  o.readable = {t.path / "A/sub", "/usr/bin", t.path / "missing", "sub"};
  CHECK(plan(o, t.path / "A") == Strings{"ro " + A});  // inside the working directory's share
  CHECK(plan(o, "/") == Strings{"ro " + A + "/sub"});

  o = {};
  o.writable = {t.path / "A/out", "/usr"};
  o.readable = {t.path / "A/out"};
  CHECK(plan(o, t.path / "A") == Strings{"rw " + A + "/out", "rw /usr", "ro " + A});

  // Through a symlink in a shared directory: its target is shared where it is.
  o = {};
  o.readable = {t.path / "A/link"};
  CHECK(plan(o, t.path / "A") == Strings{"ro " + A, "ro " + B});
  // A symlink in the nested host's own tmpfs does not exist there: an alias on its path.
  CHECK(plan(o, "/") == Strings{"ro " + B, "ro " + A + "/link <- " + B});
  o.readable = {t.path / "to-usr"};
  CHECK(plan(o, "/") == Strings{"ro " + t.path.string() + "/to-usr <- /usr/share"});
  o.readable = {};
  o.writable = {t.path / "to-c"};
  CHECK(plan(o, "/") == Strings{"rw " + C, "rw " + t.path.string() + "/to-c <- " + C});

  // Nothing hidden, nothing to share.
  o = {};
  o.readable = {"/usr/bin", "/etc"};
  CHECK(plan(o, "/usr").empty());

  std::vector<PlannedShare> shares;
  o = {};
  o.writable = {t.path / "missing"};
  CHECK(plan_shares(o, "/", shares) == "writable directory " + (t.path / "missing").string() + " does not exist");
  o.writable = {"/"};
  CHECK(plan_shares(o, "/", shares) == "the root directory cannot be shared writable");
}

namespace {

// A cache with an outer "kernel" and empty module files, and a QEMU that boots nothing:
// it records its arguments and the job, and answers with $KTSTR_FAKE_QEMU_STATUS.
struct FakeNestedHost {
  TmpDir dir{"fake-nested"};
  fs::path out = dir.path / "recorded";
  FakeNestedHost() {
    const fs::path pkg = dir.path / "cache/kernels/default";
    fs::create_directories(pkg / "boot");
    fs::create_directories(out);
    std::ofstream(pkg / "boot/vmlinuz-6.1.0-fake") << "outer kernel";
    const fs::path mods = pkg / "lib/modules/6.1.0-fake/kernel";
    fs::create_directories(mods);
    for (const char* m : {"irqbypass", "kvm", "kvm-amd", "virtio_ring", "virtio", "virtio_pci", "9pnet",
                          "9pnet_virtio", "9p"})
      std::ofstream(mods / (std::string(m) + ".ko")) << "";
    std::ofstream(dir.path / "qemu") << R"(#!/bin/sh
if [ "$1" = "--version" ]; then echo "QEMU emulator version 10.0.2"; exit 0; fi
out="$KTSTR_FAKE_QEMU_OUT"
for a in "$@"; do printf '%s\n' "$a"; done > "$out/args"
for a in "$@"; do
  case "$a" in
    local,path=*,mount_tag=ktstr_scratch,*)
      d=${a#local,path=}; d=${d%%,mount_tag=*}
      cp "$d/job" "$out/job"
      printf '%s\n' "${KTSTR_FAKE_QEMU_STATUS:-exit 0}" > "$d/status";;
  esac
done
)";
    fs::permissions(dir.path / "qemu", fs::perms::owner_all);
  }
  Strings env(const std::string& status = "exit 0") const {
    return {"KTSTR_CACHE=" + (dir.path / "cache").string(), "KTSTR_QEMU=" + (dir.path / "qemu").string(),
            "KTSTR_FAKE_QEMU_OUT=" + out.string(), "KTSTR_FAKE_QEMU_STATUS=" + status,
            "KTSTR_KVM_DEVICE=/nonexistent/kvm"};
  }
  nested::Job job() const {
    std::ifstream in(out / "job", std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    std::string error;
    auto job = nested::decode_job(bytes.str(), error);
    INFO(error);
    REQUIRE(job);
    return *job;
  }
  std::string qemu_args() const {
    std::ifstream in(out / "args");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
};

std::string share_list(const nested::Job& job) {
  std::string text;
  for (const auto& s : job.shares) text += (s.read_only ? "ro " : "rw ") + s.path + "\n";
  return text;
}

}  // namespace

TEST_CASE("run --host=nested from /tmp: the inner command and its shares", "[nested][cli]") {
  FakeNestedHost host;
  TmpDir t("nested-run");
  for (const char* d : {"k", "x", "work", "j"}) fs::create_directories(t.path / d);
  test::write_file(t.path / "k/bzImage", test::fake_bzimage());
  fs::copy_file("/bin/true", t.path / "x/scx_fake");
  // Options after the scheduler and in any order, relative paths, the scheduler's own
  // arguments after "--" looking like ours.
  auto r = test::run_cli({"run", "--host=nested", "--scheduler", "../x/scx_fake", "--kernel", "../k/bzImage",
                          "--json", "r.json", "--junit", t.path.string() + "/j/junit.xml", "--out", "out",
                          "--append=loglevel=7", "--freeze-at", "2", "--", "-e", "500", "--json", "x"},
                         host.env(), 60, t.path / "work");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  const nested::Job job = host.job();
  const std::string work = (t.path / "work").string();
  CHECK(job.cwd == work);
  REQUIRE(job.argv.size() > 6);
  CHECK(job.argv[1] == "run");
  CHECK(job.argv[2] == "--host=kvm");
  const Strings tail(job.argv.end() - 5, job.argv.end());
  CHECK(tail == Strings{"--", "-e", "500", "--json", "x"});
  const Strings head(job.argv.begin(), job.argv.end() - 5);
  // Paths as a run on /dev/kvm has them: made absolute, not resolved.
  for (const std::string& want : Strings{"--kernel=" + work + "/../k/bzImage", "--json=" + work + "/r.json",
                                         "--junit=" + t.path.string() + "/j/junit.xml", "--out=" + work + "/out",
                                         "--scheduler=" + work + "/../x/scx_fake", "--append=loglevel=7",
                                         "--freeze-at=2"}) {
    INFO(want);
    CHECK(std::count(head.begin(), head.end(), want) == 1);
  }
  // The outputs' directories read-write (the working directory among them, for r.json),
  // the kernel's and the scheduler's read-only: all of them are under /tmp.
  const std::string shares = share_list(job);
  for (const std::string& want : Strings{"rw " + work + "/out\n", "rw " + work + "\n", "rw " + t.path.string() + "/j\n",
                                         "ro " + t.path.string() + "/k\n", "ro " + t.path.string() + "/x\n"}) {
    INFO(shares);
    CHECK(shares.find(want) != std::string::npos);
  }
  const std::string args = host.qemu_args();
  CHECK(args.find("local,path=" + t.path.string() + "/k,mount_tag=ktstr_ro") != std::string::npos);
  CHECK(args.find("/k,mount_tag=ktstr_ro0,security_model=none,multidevs=remap,readonly=on") != std::string::npos);
}

TEST_CASE("run --host=nested: a built-in scenario name stays a name even beside a file of that name", "[nested][cli]") {
  FakeNestedHost host;
  TmpDir t("nested-scenario");
  fs::create_directories(t.path / "k");
  test::write_file(t.path / "k/bzImage", test::fake_bzimage());
  std::ofstream(t.path / "steady") << "not a scenario\n";  // the direct run uses the built-in
  auto r = test::run_cli({"run", "--host=nested", "--kernel", "k/bzImage", "--scenario", "steady", "--out", "out"},
                         host.env(), 60, t.path);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  const nested::Job job = host.job();
  CHECK(std::count(job.argv.begin(), job.argv.end(), std::string("--scenario=steady")) == 1);
}

TEST_CASE("a job the nested host refuses is a usage error, a broken nested host exit 79", "[nested][cli]") {
  FakeNestedHost host;
  TmpDir t("nested-refused");
  test::write_file(t.path / "bzImage", test::fake_bzimage());
  const Strings args = {"run", "--host=nested", "--kernel", (t.path / "bzImage").string(), "--out", "out"};
  auto r = test::run_cli(args, host.env("refused working directory /gone cannot be entered in the nested host"), 60,
                         t.path);
  CHECK(r.exit_code == exit_usage);
  CHECK_THAT(r.output, Catch::Contains("ktstr-actors: working directory /gone cannot be entered in the nested host"));
  r = test::run_cli(args, host.env("error cannot mount 9p share"), 60, t.path);
  CHECK(r.exit_code == exit_nested_host_failed);
  CHECK_THAT(r.output, Catch::Contains("the nested host failed: cannot mount 9p share"));
  r = test::run_cli(args, host.env("exit 3"), 60, t.path);
  CHECK(r.exit_code == 3);
}

TEST_CASE("host exec from /tmp shares the working directory and the program's read-only", "[nested][cli]") {
  FakeNestedHost host;
  TmpDir t("nested-exec");
  fs::create_directories(t.path / "bin");
  auto r = test::run_cli({"host", "exec", "--", "../bin/prog", "arg"}, host.env(), 60, t.path / "bin");
  INFO(r.output);
  CHECK(r.exit_code == 0);
  const nested::Job job = host.job();
  CHECK(job.cwd == (t.path / "bin").string());
  CHECK(job.argv == Strings{"../bin/prog", "arg"});
  CHECK(share_list(job) == "ro " + (t.path / "bin").string() + "\n");
  r = test::run_cli({"host", "exec", "--", "true"}, host.env("refused working directory gone"), 60, t.path);
  CHECK(r.exit_code == exit_usage);
  CHECK_THAT(r.output, Catch::Contains("host exec: working directory gone"));
}
