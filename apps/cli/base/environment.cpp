#include "apps/cli/base/environment.hpp"

#include <cstdlib>

#include "apps/protocol/nested_job.hpp"

namespace ktstr::cli {

namespace fs = std::filesystem;

Environment Environment::from(const std::function<const char*(const char*)>& lookup) {
  auto get = [&](const char* name) -> std::optional<std::string> {
    const char* value = lookup(name);
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
  Environment env;
  if (auto cache = get("KTSTR_CACHE")) env.cache_dir = *cache;
  else if (auto xdg = get("XDG_CACHE_HOME")) env.cache_dir = fs::path(*xdg) / "ktstr-actors";
  else env.cache_dir = fs::path(get("HOME").value_or("/root")) / ".cache" / "ktstr-actors";
  env.kvm_device = get("KTSTR_KVM_DEVICE");
  if (auto q = get("KTSTR_QEMU")) env.qemu = *q;
  if (auto a = get("KTSTR_AGENT")) env.agent = *a;
  env.nested_append = get("KTSTR_NESTED_APPEND");
  if (auto m = get("KTSTR_NESTED_MONITOR")) env.nested_monitor = *m;
  env.outer_probe = get(kOuterProbeEnv);
  env.inside_nested_host = lookup(nested::nested_host_env) != nullptr;
  return env;
}

Environment Environment::from_process() {
  return from([](const char* name) { return std::getenv(name); });
}

}  // namespace ktstr::cli
