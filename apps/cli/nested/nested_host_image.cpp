#include "apps/cli/nested/nested_host_image.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string_view>

#include "apps/cli/guest/initramfs.hpp"

namespace ktstr::cli {

namespace fs = std::filesystem;

namespace {

struct Wanted {
  std::string_view name;
  bool optional;  // only a dependency in some kernel versions (merged or built in elsewhere)
};

// Load order of PLATFORM.md §1 (each module after its dependencies, 6.1 names).
constexpr Wanted wanted[] = {
    {"irqbypass", false},   {"kvm", false},          {"ccp", true},
    {"kvm_amd", false},     {"virtio_ring", false},  {"virtio", false},
    {"virtio_pci_legacy_dev", true}, {"virtio_pci_modern_dev", true},
    {"virtio_pci", false},  {"9pnet", false},        {"9pnet_virtio", false},
    {"netfs", true},        {"fscache", true},       {"9p", false},
};

// Module names treat '-' and '_' alike ("kvm-amd.ko" is module kvm_amd).
std::string module_name(std::string file) {
  for (std::string_view suffix : {".ko.xz", ".ko.zst", ".ko.gz", ".ko"})
    if (file.size() > suffix.size() && file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0) {
      file.resize(file.size() - suffix.size());
      std::replace(file.begin(), file.end(), '-', '_');
      return file;
    }
  return {};
}

// lib/modules/<release>/modules.builtin lists "kernel/.../name.ko" for built-in modules.
std::map<std::string, bool> builtin_modules(const fs::path& modules_dir) {
  std::map<std::string, bool> out;
  std::ifstream in(modules_dir.parent_path() / "modules.builtin");
  for (std::string line; std::getline(in, line);)
    if (std::string n = module_name(fs::path(line).filename().string()); !n.empty()) out[n] = true;
  return out;
}

}  // namespace

std::vector<fs::path> outer_modules(const fs::path& modules_dir) {
  std::map<std::string, fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(modules_dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file(ec))
      if (std::string n = module_name(it->path().filename().string()); !n.empty()) files.emplace(n, it->path());
  if (ec) throw std::runtime_error("cannot list kernel modules in " + modules_dir.string() + ": " + ec.message());

  const auto builtin = builtin_modules(modules_dir);
  std::vector<fs::path> out;
  for (const Wanted& w : wanted) {
    const std::string name(w.name);
    if (auto f = files.find(name); f != files.end()) out.push_back(f->second);
    else if (!builtin.count(name) && !w.optional)
      throw std::runtime_error("kernel module " + name + " is neither in " + modules_dir.string() +
                               " nor built into the kernel");
  }
  return out;
}

void write_outer_initramfs(const fs::path& out, const fs::path& init_binary, const std::vector<fs::path>& modules) {
  Initramfs img;
  img.add_file("init", init_binary, 0755);
  // Without /dev/console in the archive the kernel starts PID 1 with no stdio at all.
  img.add_char_device("dev/console", 5, 1, 0600);
  for (const char* dir : {"proc", "sys", "host", "scratch"}) img.add_directory(dir, 0755);
  img.add_directory("modules", 0755);
  for (std::size_t i = 0; i < modules.size(); ++i) {
    std::string prefix = (i < 10 ? "0" : "") + std::to_string(i) + "-";  // init loads in name order
    img.add_file("modules/" + prefix + modules[i].filename().string(), modules[i], 0644);
  }
  img.write(out);
}

}  // namespace ktstr::cli
