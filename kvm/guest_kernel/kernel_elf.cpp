#include "kvm/guest_kernel/kernel_elf.hpp"

#include <gelf.h>
#include <libelf.h>

#include <map>

#include "kvm/guest_kernel/image_error.hpp"

namespace ktstr::guest_kernel {

struct KernelElf::Sections {
  struct Range {
    uint64_t offset = 0, size = 0;
  };
  std::map<std::string, Range> by_name;  ///< first section of each name
};

namespace {

struct ElfCloser {
  void operator()(Elf* e) const { elf_end(e); }
};

bool within(uint64_t offset, uint64_t size, uint64_t total) { return offset <= total && size <= total - offset; }

}  // namespace

KernelElf::KernelElf(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)), sections_(std::make_unique<Sections>()) {
  if (elf_version(EV_CURRENT) == EV_NONE) throw ImageError("libelf: " + std::string(elf_errmsg(-1)));
  if (bytes_.size() < sizeof(Elf64_Ehdr) || bytes_[0] != 0x7f || bytes_[1] != 'E' || bytes_[2] != 'L' || bytes_[3] != 'F')
    throw ImageError("payload is not an ELF file");
  // SAFETY: libelf reads the buffer in place (ELF_C_READ_MEMORY); bytes_ outlives the
  // handle, which is closed before this constructor returns.
  std::unique_ptr<Elf, ElfCloser> elf(elf_memory(reinterpret_cast<char*>(bytes_.data()), bytes_.size()));
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF || gelf_getclass(elf.get()) != ELFCLASS64)
    throw ImageError("payload is not an ELF64 file: " + std::string(elf_errmsg(-1)));
  size_t phnum = 0;
  if (elf_getphdrnum(elf.get(), &phnum) != 0) throw ImageError("payload ELF: no program headers");
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr ph;
    if (!gelf_getphdr(elf.get(), static_cast<int>(i), &ph)) throw ImageError("payload ELF: unreadable program header");
    if (ph.p_type != PT_LOAD) continue;
    if (!within(ph.p_offset, ph.p_filesz, bytes_.size()))
      throw ImageError("payload ELF: PT_LOAD segment " + std::to_string(i) + " lies outside the file");
    segments_.push_back({ph.p_vaddr, ph.p_paddr, ph.p_offset, ph.p_filesz, ph.p_memsz});
  }
  size_t shstrndx = 0;
  if (elf_getshdrstrndx(elf.get(), &shstrndx) != 0) return;  // no section names: no sections to offer
  for (Elf_Scn* scn = elf_nextscn(elf.get(), nullptr); scn; scn = elf_nextscn(elf.get(), scn)) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) throw ImageError("payload ELF: unreadable section header");
    const char* name = elf_strptr(elf.get(), shstrndx, sh.sh_name);
    if (!name) continue;
    const uint64_t size = sh.sh_type == SHT_NOBITS ? 0 : sh.sh_size;
    if (!within(sh.sh_offset, size, bytes_.size()))
      throw ImageError(std::string("payload ELF: section ") + name + " lies outside the file");
    sections_->by_name.emplace(name, Sections::Range{sh.sh_offset, size});
  }
}

KernelElf::~KernelElf() = default;
KernelElf::KernelElf(KernelElf&&) noexcept = default;
KernelElf& KernelElf::operator=(KernelElf&&) noexcept = default;

std::optional<std::span<const uint8_t>> KernelElf::section(const std::string& name) const {
  auto it = sections_->by_name.find(name);
  if (it == sections_->by_name.end()) return std::nullopt;
  return std::span<const uint8_t>(bytes_).subspan(it->second.offset, it->second.size);
}

std::optional<std::span<const uint8_t>> KernelElf::read(uint64_t vaddr, size_t length) const {
  for (const auto& s : segments_) {
    if (vaddr < s.vaddr || vaddr - s.vaddr > s.file_size || length > s.file_size - (vaddr - s.vaddr)) continue;
    return std::span<const uint8_t>(bytes_).subspan(s.file_offset + (vaddr - s.vaddr), length);
  }
  return std::nullopt;
}

}  // namespace ktstr::guest_kernel
