#include "apps/cli/guest_image.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "apps/cli/initramfs.hpp"

namespace ktstr::cli {

std::filesystem::path agent_binary() {
  if (const char* p = std::getenv("KTSTR_AGENT"); p && *p) return p;
  return KTSTR_AGENT_PATH;
}

std::vector<uint8_t> build_guest_initramfs(const std::filesystem::path& path) {
  Initramfs image;
  for (const char* dir : {"dev", "proc", "sys", "tmp", "run"}) image.add_directory(dir, 0755);
  image.add_char_device("dev/console", 5, 1, 0600);
  image.add_file("init", agent_binary(), 0755);
  image.write(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read back " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace ktstr::cli
