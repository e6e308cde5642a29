// GuestKernel::locate: the KASLR slide, the kernel's physical placement, the direct map and
// the online CPUs of a running guest (GUEST-KERNEL.md §1.4, §3.1).
#include "kvm/guest_kernel/guest_kernel.hpp"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "kvm/guest_kernel/page_walk.hpp"

namespace ktstr::guest_kernel {
namespace {

constexpr uint64_t k2MiB = 2ull << 20;
constexpr uint64_t k1GiB = 1ull << 30;
constexpr uint64_t kCr4La57 = 1ull << 12;
/// More CPUs than any VM here has; bounds the online-mask read whatever the guest claims.
constexpr uint32_t kMaxCpus = 8192;

[[noreturn]] void refuse(const std::string& reason) { throw LocateError("guest kernel not located: " + reason); }

uint64_t read_or_refuse(const KernelAddressSpace& space, uint64_t va, uint32_t size, const char* what) {
  const auto r = space.read_uint(va, size);
  if (!r.ok) refuse(fmt::format("{} at {:#x} is not readable guest memory", what, va));
  return r.value;
}

std::string trimmed(std::string text) {
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

}  // namespace

GuestKernel::GuestKernel(KernelLayout layout, KernelAddressSpace space, Located located)
    : layout_(std::move(layout)), space_(std::move(space)), located_(std::move(located)) {}

GuestKernel GuestKernel::locate(KernelLayout layout, std::shared_ptr<const PhysicalMemory> memory,
                                const LocateInput& in) {
  const auto& sym = layout.symbols;
  if (!memory) refuse("no guest memory");
  if (sym.text == 0 || sym.entry_syscall_64 == 0) refuse("the layout lacks _text or entry_SYSCALL_64");
  if (sym.entry_syscall_64 - sym.text >= kKernelImageSize) refuse("entry_SYSCALL_64 is outside the kernel image");
  if (in.vcpus == 0) refuse("no vCPUs");

  Located located;
  const uint64_t slide = in.lstar - sym.entry_syscall_64;
  if (slide % k2MiB != 0 || slide >= k1GiB)
    refuse(fmt::format("LSTAR {:#x} gives slide {:#x} from entry_SYSCALL_64 {:#x}: not a multiple of 2 MiB below 1 GiB",
                       in.lstar, slide, sym.entry_syscall_64));
  located.slide = static_cast<int64_t>(slide);
  located.la57 = (in.cr4 & kCr4La57) != 0;

  const uint64_t root = page_table_root(in.cr3);
  const auto pa_entry = walk(*memory, root, in.lstar, located.la57);
  if (!pa_entry) refuse(fmt::format("LSTAR {:#x} is not mapped by CR3 {:#x}", in.lstar, in.cr3));
  located.pa_text = *pa_entry - (sym.entry_syscall_64 - sym.text);
  if (located.pa_text % k2MiB != 0)
    refuse(fmt::format("LSTAR maps to {:#x}, so _text would be at {:#x}: not 2 MiB aligned", *pa_entry, located.pa_text));

  AddressSpaceLayout space_layout{.image_va = sym.text + slide, .image_pa = located.pa_text, .page_offset_base = 0,
                                  .pgd_pa = root, .five_level = located.la57};
  if (sym.init_top_pgt != 0) {
    if (sym.init_top_pgt - sym.text >= kKernelImageSize || sym.init_top_pgt % kPageSize != 0)
      refuse(fmt::format("init_top_pgt {:#x} is not a page of the kernel image", sym.init_top_pgt));
    space_layout.pgd_pa = located.pa_text + (sym.init_top_pgt - sym.text);
  }
  KernelAddressSpace image(memory, space_layout);

  if (sym.pgtable_l5_enabled != 0) {
    const uint64_t l5 = read_or_refuse(image, sym.pgtable_l5_enabled + slide, 4, "__pgtable_l5_enabled");
    if (l5 > 1 || (l5 == 1) != located.la57)
      refuse(fmt::format("__pgtable_l5_enabled is {} but CR4.LA57 is {}", l5, located.la57 ? 1 : 0));
  }
  if (sym.page_offset_base != 0) {
    const uint64_t base = read_or_refuse(image, sym.page_offset_base + slide, 8, "page_offset_base");
    if (!image.plausible_pointer(base, k1GiB))
      refuse(fmt::format("page_offset_base reads {:#x}: not a 1 GiB aligned kernel address", base));
    located.page_offset_base = base;
    space_layout.page_offset_base = base;
  }
  KernelAddressSpace space(memory, space_layout);

  if (sym.linux_banner != 0) {
    const auto banner = space.read_string(sym.linux_banner + slide, 512);
    if (!banner) refuse(fmt::format("linux_banner at {:#x} is not readable", sym.linux_banner + slide));
    located.banner = trimmed(*banner);
    const std::string expected = layout.release.empty() ? "Linux version " : "Linux version " + layout.release + " ";
    if (located.banner.rfind(expected, 0) != 0)
      refuse(fmt::format("the banner reads \"{}\", expected it to start \"{}\"", located.banner.substr(0, 80), expected));
  }

  // Online CPUs below min(nr_cpu_ids, vcpus, NR_CPUS), each with its per-CPU offset.
  uint32_t limit = std::min(in.vcpus, kMaxCpus);
  if (layout.nr_cpus_max != 0) limit = std::min(limit, layout.nr_cpus_max);
  if (sym.nr_cpu_ids != 0)
    limit = static_cast<uint32_t>(std::min<uint64_t>(limit, read_or_refuse(space, sym.nr_cpu_ids + slide, 4, "nr_cpu_ids")));
  if (sym.cpu_online_mask != 0 && sym.per_cpu_offset != 0) {
    located.per_cpu_offset.assign(limit, 0);
    for (uint32_t word = 0; word * 64 < limit; ++word) {
      const uint64_t bits = read_or_refuse(space, sym.cpu_online_mask + slide + 8ull * word, 8, "__cpu_online_mask");
      for (uint32_t bit = 0; bit < 64 && word * 64 + bit < limit; ++bit) {
        if (!(bits >> bit & 1)) continue;
        const uint32_t cpu = word * 64 + bit;
        located.cpus.push_back(cpu);
        located.per_cpu_offset[cpu] = read_or_refuse(space, sym.per_cpu_offset + slide + 8ull * cpu, 8, "__per_cpu_offset[]");
      }
    }
    if (located.cpus.empty()) refuse(fmt::format("no online CPU below {} in __cpu_online_mask", limit));
  }

  spdlog::debug("guest kernel located: slide {:#x}, _text at {:#x}, page_offset_base {:#x}, {}-level paging, {} CPUs online",
                slide, located.pa_text, located.page_offset_base, located.la57 ? 5 : 4, located.cpus.size());
  return GuestKernel(std::move(layout), std::move(space), std::move(located));
}

std::optional<uint64_t> GuestKernel::kernel_word_physical(uint64_t link_address, uint32_t size) const {
  const uint64_t va = slid(link_address);
  constexpr uint64_t kPage = 4096;
  if (size == 0 || size > 8 || va / kPage != (va + size - 1) / kPage) return std::nullopt;
  return space_.translate(va);
}

}  // namespace ktstr::guest_kernel
