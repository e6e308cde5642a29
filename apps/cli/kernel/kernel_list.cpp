#include "apps/cli/kernel/kernel_list.hpp"

#include "apps/cli/base/read_file.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/kernel/kconfig.hpp"
#include "apps/cli/kernel/kernel_cache.hpp"
#include "apps/cli/kernel/make_progress.hpp"

namespace ktstr::cli {

namespace fs = std::filesystem;

namespace {

void describe_entry(CachedKernelInfo& k) {
  std::error_code ec;
  // Debian package: boot/vmlinuz-<release> and boot/config-<release>.
  for (const auto& e : fs::directory_iterator(k.dir / "boot", ec)) {
    std::string f = e.path().filename().string();
    if (f.rfind("vmlinuz-", 0) != 0) continue;
    k.origin = "debian";
    k.bzimage = e.path();
    k.release = f.substr(8);
    if (auto config = read_file(k.dir / "boot" / ("config-" + k.release)))
      k.sched_ext = has_sched_ext(parse_kconfig(*config));
    return;
  }
  if (fs::is_regular_file(k.dir / "bzImage", ec)) k.bzimage = k.dir / "bzImage";
  if (auto config = read_file(k.dir / "config")) k.sched_ext = has_sched_ext(parse_kconfig(*config));
  auto build = read_file(k.dir / "build.json");
  auto j = build ? nlohmann::json::parse(*build, nullptr, false) : nlohmann::json();
  if (j.is_object()) {
    k.origin = "built";
    k.release = j.value("release", "");
    if (j.contains("build_seconds") && j["build_seconds"].is_number()) k.build_seconds = j["build_seconds"].get<double>();
    if (j.contains("schedulers") && j["schedulers"].is_array())
      for (const auto& s : j["schedulers"])
        if (s.is_string()) k.schedulers.push_back(s.get<std::string>());
  } else {
    k.origin = "unknown";
  }
}

std::string yes_no(const std::optional<bool>& b) { return !b ? "?" : *b ? "yes" : "no"; }
}  // namespace

std::vector<CachedKernelInfo> list_cached_kernels(const fs::path& kernels_dir) {
  std::vector<CachedKernelInfo> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kernels_dir, ec)) {
    CachedKernelInfo k;
    k.name = e.path().filename().string();
    if (k.name.empty() || k.name[0] == '.') continue;
    if (!fs::is_directory(e.path(), ec)) continue;
    if (fs::is_symlink(e.symlink_status(ec))) k.alias_of = fs::read_symlink(e.path(), ec).filename().string();
    k.dir = e.path();
    describe_entry(k);
    out.push_back(std::move(k));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

int kernel_list_main(const fs::path& cache_dir, bool json) {
  const fs::path kernels = cache_dir / "kernels";
  auto list = list_cached_kernels(kernels);
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& k : list) {
      nlohmann::json j{{"name", k.name},       {"dir", k.dir.string()},  {"release", k.release},
                       {"origin", k.origin},   {"schedulers", k.schedulers}};
      j["alias_of"] = k.alias_of.empty() ? nlohmann::json() : nlohmann::json(k.alias_of);
      j["bzimage"] = k.bzimage ? nlohmann::json(k.bzimage->string()) : nlohmann::json();
      j["sched_ext"] = k.sched_ext ? nlohmann::json(*k.sched_ext) : nlohmann::json();
      j["build_seconds"] = k.build_seconds ? nlohmann::json(*k.build_seconds) : nlohmann::json();
      arr.push_back(std::move(j));
    }
    std::cout << nlohmann::json{{"cache", kernels.string()}, {"kernels", arr}}.dump(2) << "\n";
    return exit_pass;
  }
  if (list.empty()) {
    std::cout << "no kernels cached in " << kernels.string()
              << " (scripts/setup.sh fetches Debian's; `ktstr-actors kernel build` builds a sched_ext one)\n";
    return exit_pass;
  }
  std::size_t wn = 4, wr = 7;
  for (const auto& k : list) {
    wn = std::max(wn, k.name.size());
    wr = std::max(wr, k.release.size());
  }
  auto row = [&](const std::string& n, const std::string& r, const std::string& s, const std::string& o,
                 const std::string& t, const std::string& extra) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "%-*s  %-*s  %-9s  %-7s  %-10s  %s", static_cast<int>(wn), n.c_str(),
                  static_cast<int>(wr), r.c_str(), s.c_str(), o.c_str(), t.c_str(), extra.c_str());
    std::string line = buf;
    line.erase(line.find_last_not_of(' ') + 1);
    std::printf("%s\n", line.c_str());
  };
  std::printf("kernels in %s\n", kernels.c_str());
  row("name", "release", "sched_ext", "origin", "build time", "");
  for (const auto& k : list) {
    std::string extra;
    if (!k.alias_of.empty()) extra = "-> " + k.alias_of;
    if (!k.schedulers.empty()) {
      extra += extra.empty() ? "schedulers:" : "  schedulers:";
      for (const auto& s : k.schedulers) extra += " " + s;
    }
    if (!k.bzimage) extra += extra.empty() ? "(no kernel image)" : "  (no kernel image)";
    row(k.name, k.release.empty() ? "?" : k.release, yes_no(k.sched_ext), k.origin,
        k.build_seconds ? format_duration(*k.build_seconds) : "-", extra);
  }
  std::fflush(stdout);
  return exit_pass;
}

}  // namespace ktstr::cli
