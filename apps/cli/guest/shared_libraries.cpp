#include "apps/cli/guest/shared_libraries.hpp"

#include <fcntl.h>
#include <gelf.h>
#include <unistd.h>

#include <deque>
#include <optional>
#include <set>
#include <string_view>

namespace ktstr::cli {

namespace fs = std::filesystem;

namespace {

/// What the loader reads from one ELF file.
struct ElfNeeds {
  std::optional<std::string> interpreter;
  std::vector<std::string> needed;
  std::vector<std::string> rpath, runpath;  // already split on ':'
};

std::vector<std::string> split_path_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(':', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

class ElfFile {
 public:
  explicit ElfFile(const fs::path& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw ProgramDependencyError("cannot open " + path.string());
    elf_ = elf_begin(fd_, ELF_C_READ, nullptr);
    if (!elf_ || elf_kind(elf_) != ELF_K_ELF) {
      release();  // a constructor that throws gets no destructor: the descriptor and libelf's handle go here
      fail("not an ELF file");
    }
  }
  ~ElfFile() { release(); }
  void release() {
    if (elf_) elf_end(elf_);
    elf_ = nullptr;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  ElfFile(const ElfFile&) = delete;
  ElfFile& operator=(const ElfFile&) = delete;

  [[noreturn]] void fail(const std::string& why) const {
    throw ProgramDependencyError(path_.string() + ": " + why);
  }

  ElfNeeds read() {
    GElf_Ehdr ehdr;
    if (!gelf_getehdr(elf_, &ehdr)) fail("unreadable ELF header");
    if (ehdr.e_ident[EI_CLASS] != ELFCLASS64 || ehdr.e_machine != EM_X86_64)
      fail("not an x86-64 ELF file (the guest is x86-64)");
    ElfNeeds needs;
    std::size_t phnum = 0;
    if (elf_getphdrnum(elf_, &phnum) != 0) fail("unreadable program headers");
    for (std::size_t i = 0; i < phnum; ++i) {
      GElf_Phdr phdr;
      if (!gelf_getphdr(elf_, static_cast<int>(i), &phdr)) fail("unreadable program header");
      if (phdr.p_type == PT_INTERP) needs.interpreter = read_string_at(phdr.p_offset, phdr.p_filesz);
    }
    read_dynamic(needs);
    return needs;
  }

 private:
  std::string read_string_at(uint64_t offset, uint64_t size) {
    std::size_t file_size = 0;
    char* image = elf_rawfile(elf_, &file_size);
    if (!image || offset > file_size || size > file_size - offset) fail("PT_INTERP outside the file");
    std::string_view text(image + offset, size);
    return std::string(text.substr(0, text.find('\0')));
  }

  void read_dynamic(ElfNeeds& needs) {
    for (Elf_Scn* scn = elf_nextscn(elf_, nullptr); scn; scn = elf_nextscn(elf_, scn)) {
      GElf_Shdr shdr;
      if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_DYNAMIC) continue;
      Elf_Data* data = elf_getdata(scn, nullptr);
      if (!data || shdr.sh_entsize == 0) fail("unreadable dynamic section");
      const std::size_t count = shdr.sh_size / shdr.sh_entsize;
      for (std::size_t i = 0; i < count; ++i) {
        GElf_Dyn dyn;
        if (!gelf_getdyn(data, static_cast<int>(i), &dyn)) break;
        if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_RPATH && dyn.d_tag != DT_RUNPATH) continue;
        const char* text = elf_strptr(elf_, shdr.sh_link, dyn.d_un.d_val);
        if (!text) fail("dynamic entry names no string");
        if (dyn.d_tag == DT_NEEDED) needs.needed.emplace_back(text);
        else if (dyn.d_tag == DT_RPATH) needs.rpath = split_path_list(text);
        else needs.runpath = split_path_list(text);
      }
    }
  }

  fs::path path_;
  int fd_ = -1;
  Elf* elf_ = nullptr;
};

std::string expand_origin(std::string dir, const fs::path& object) {
  const std::string origin = object.parent_path().string();
  for (std::string_view token : {"${ORIGIN}", "$ORIGIN"}) {
    for (auto at = dir.find(token); at != std::string::npos; at = dir.find(token, at + origin.size()))
      dir.replace(at, token.size(), origin);
  }
  return dir;
}

/// Where the loader finds `name` needed by `object`; nullopt if nowhere.
std::optional<std::string> locate(const std::string& name, const fs::path& object, const ElfNeeds& needs,
                                  const std::vector<std::string>& system_dirs) {
  if (name.find('/') != std::string::npos) return fs::exists(name) ? std::optional(name) : std::nullopt;
  std::vector<std::string> dirs;
  if (needs.runpath.empty())  // DT_RPATH is ignored when DT_RUNPATH is present
    for (const auto& d : needs.rpath) dirs.push_back(expand_origin(d, object));
  for (const auto& d : needs.runpath) dirs.push_back(expand_origin(d, object));
  dirs.insert(dirs.end(), system_dirs.begin(), system_dirs.end());
  for (const auto& dir : dirs) {
    fs::path candidate = fs::path(dir) / name;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate.lexically_normal().string();
  }
  return std::nullopt;
}

}  // namespace

const std::vector<std::string>& default_library_dirs() {
  static const std::vector<std::string> dirs{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
                                             "/lib64", "/usr/lib64", "/lib", "/usr/lib"};
  return dirs;
}

std::vector<GuestFile> program_dependencies(const fs::path& program, const std::vector<std::string>& system_dirs) {
  if (elf_version(EV_CURRENT) == EV_NONE) throw ProgramDependencyError("libelf is unusable");
  const auto& dirs = system_dirs.empty() ? default_library_dirs() : system_dirs;
  std::vector<GuestFile> out;
  std::set<std::string> seen;
  auto add = [&](const std::string& guest_path) {
    if (!seen.insert(guest_path).second) return false;
    std::error_code ec;
    fs::path real = fs::canonical(guest_path, ec);
    if (ec) throw ProgramDependencyError("cannot resolve " + guest_path + ": " + ec.message());
    out.push_back({guest_path, real});
    return true;
  };

  std::deque<fs::path> pending{program};
  bool first = true;
  while (!pending.empty()) {
    const fs::path object = pending.front();
    pending.pop_front();
    ElfNeeds needs = ElfFile(object).read();
    if (first && needs.interpreter) {
      if (!fs::exists(*needs.interpreter))
        throw ProgramDependencyError(program.string() + ": its ELF interpreter " + *needs.interpreter +
                                     " does not exist on this machine");
      add(*needs.interpreter);
    }
    first = false;
    for (const auto& name : needs.needed) {
      auto found = locate(name, object, needs, dirs);
      if (!found)
        throw ProgramDependencyError(program.string() + ": shared library " + name + " (needed by " +
                                     object.filename().string() + ") not found");
      if (add(*found)) pending.emplace_back(*found);
    }
  }
  return out;
}

}  // namespace ktstr::cli
