// The environment is read once (apps/cli/base/environment.hpp): which variable wins, and
// that an empty value counts as unset.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "apps/cli/base/environment.hpp"
#include "apps/cli/base/read_file.hpp"
#include "apps/protocol/nested_job.hpp"
#include "tests/support/cli.hpp"

using ktstr::cli::Environment;

namespace {

Environment from(const std::map<std::string, std::string>& vars) {
  return Environment::from([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

}  // namespace

TEST_CASE("environment: the cache is KTSTR_CACHE, else XDG_CACHE_HOME/ktstr-actors, else HOME/.cache/ktstr-actors") {
  CHECK(from({{"KTSTR_CACHE", "/c"}, {"XDG_CACHE_HOME", "/x"}, {"HOME", "/h"}}).cache_dir == "/c");
  CHECK(from({{"XDG_CACHE_HOME", "/x"}, {"HOME", "/h"}}).cache_dir == "/x/ktstr-actors");
  CHECK(from({{"HOME", "/h"}}).cache_dir == "/h/.cache/ktstr-actors");
  CHECK(from({}).cache_dir == "/root/.cache/ktstr-actors");
  // Empty is unset: KTSTR_CACHE= does not make the cache the working directory.
  CHECK(from({{"KTSTR_CACHE", ""}, {"HOME", "/h"}}).cache_dir == "/h/.cache/ktstr-actors");
}

TEST_CASE("environment: each variable lands in its field, empty ones stay unset") {
  const Environment e = from({{"KTSTR_KVM_DEVICE", "/dev/fake"},
                              {"KTSTR_QEMU", "/q/qemu"},
                              {"KTSTR_AGENT", ""},
                              {"KTSTR_NESTED_APPEND", "quiet"},
                              {"KTSTR_NESTED_MONITOR", "/m.sock"},
                              {"KTSTR_OUTER_HOST_PROBE", "{}"},
                              {ktstr::nested::nested_host_env, "1"}});
  CHECK(e.kvm_device == "/dev/fake");
  CHECK(e.qemu == std::filesystem::path("/q/qemu"));
  CHECK_FALSE(e.agent);
  CHECK(e.nested_append == "quiet");
  CHECK(e.nested_monitor == std::filesystem::path("/m.sock"));
  CHECK(e.outer_probe == "{}");
  CHECK(e.inside_nested_host);
  CHECK_FALSE(from({}).inside_nested_host);
}

TEST_CASE("read_file: the bytes of a file, nullopt for one that cannot be read") {
  auto dir = ktstr::test::scratch_dir("read-file");
  const auto path = dir / "bytes";
  const std::string bytes("a\0b\nc", 5);
  std::ofstream(path, std::ios::binary) << bytes;
  CHECK(ktstr::cli::read_file(path) == bytes);
  CHECK_FALSE(ktstr::cli::read_file(dir / "missing"));
  CHECK_FALSE(ktstr::cli::read_file(dir));  // a directory opens but does not read
}
