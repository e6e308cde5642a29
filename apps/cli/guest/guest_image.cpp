#include "apps/cli/guest/guest_image.hpp"

#include "apps/cli/base/read_file.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "apps/cli/guest/initramfs.hpp"
#include "apps/cli/guest/shared_libraries.hpp"

namespace ktstr::cli {

std::filesystem::path agent_binary(const std::optional<std::filesystem::path>& env_agent) {
  return env_agent.value_or(KTSTR_AGENT_PATH);
}

std::string guest_scheduler_path(const std::filesystem::path& host_path) {
  return std::string(protocol::kGuestSchedulerDir) + "/" + host_path.filename().string();
}

namespace {

/// Shared libraries once each: the scheduler and the payloads mostly need the same ones.
void add_libraries(Initramfs& image, const std::vector<GuestFile>& files, std::set<std::string>& added) {
  for (const auto& f : files)
    if (added.insert(f.guest_path).second) image.add_file(f.guest_path, f.host_path, 0755);
}

void add_scheduler(Initramfs& image, const std::filesystem::path& scheduler, std::set<std::string>& added) {
  const auto files = program_dependencies(scheduler);
  add_libraries(image, files, added);
  image.add_file(guest_scheduler_path(scheduler), scheduler, 0755);
  spdlog::debug("initramfs: scheduler {} with {} shared object(s)", scheduler.string(), files.size());
}

}  // namespace

std::vector<uint8_t> build_guest_initramfs(const std::filesystem::path& path, const GuestImageContents& contents) {
  Initramfs image;
  for (const char* dir : {"dev", "proc", "sys", "tmp", "run"}) image.add_directory(dir, 0755);
  image.add_char_device("dev/console", 5, 1, 0600);
  image.add_file("init", contents.agent, 0755);
  if (contents.plan_json) image.add_bytes(protocol::kGuestPlanPath, *contents.plan_json, 0644);
  std::set<std::string> libraries;
  if (contents.scheduler) add_scheduler(image, *contents.scheduler, libraries);
  for (const auto& p : contents.payloads) {
    add_libraries(image, p.libraries, libraries);
    image.add_file(p.guest_path, p.host, 0755);
    spdlog::debug("initramfs: payload {} as {} with {} shared object(s)", p.host.string(), p.guest_path, p.libraries.size());
  }
  image.write(path);
  auto bytes = read_file(path);
  if (!bytes) throw std::runtime_error("cannot read back " + path.string());
  return {bytes->begin(), bytes->end()};
}

}  // namespace ktstr::cli
