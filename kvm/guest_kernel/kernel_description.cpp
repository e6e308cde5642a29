#include "kvm/guest_kernel/kernel_description.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "kvm/bzimage.hpp"
#include "kvm/guest_kernel/btf_layout.hpp"
#include "kvm/guest_kernel/image_error.hpp"
#include "kvm/guest_kernel/kallsyms.hpp"
#include "kvm/guest_kernel/kernel_elf.hpp"
#include "kvm/guest_kernel/kernel_payload.hpp"
#include "kvm/guest_kernel/layout_items.hpp"

namespace ktstr::guest_kernel {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void fill_symbols(KernelLayout& layout, const SymbolTable& symbols, const std::string& source) {
  for (const auto& item : symbol_items()) {
    const Symbol* found = nullptr;
    for (auto spelling : item.spellings)
      if ((found = symbols.find(spelling))) break;
    if (found)
      layout.symbols.*item.member = found->address;
    else
      layout.missing[std::string(item.name)] = "not in " + source;
  }
}

void fill_fields(KernelLayout& layout, const BtfLayout& btf) {
  for (const auto& item : field_items()) {
    FieldLookup found;
    std::string why;
    for (auto path : item.paths) {
      found = btf.member(path);
      if (found.field.present()) break;
      why += (why.empty() ? "" : "; ") + found.why;
    }
    item.get(layout) = found.field;
    if (!found.field.present()) layout.missing[std::string(item.name)] = why;
  }
  if (auto size = btf.struct_size("rq"))
    layout.rq.size = *size;
  else
    layout.missing["rq"] = "no struct rq in BTF";
  if (auto size = btf.struct_size("bucket"))
    layout.bpf.bucket_size = *size;
  else
    layout.missing["bucket"] = "no struct bucket (BPF hash map) in BTF";
}

/// Per-CPU placement: zero-based (<= 6.14) iff __per_cpu_start is 0; runqueues from the
/// symbol table, else from BTF's DATASEC (an offset, so only when zero-based).
void fill_percpu(KernelLayout& layout, const SymbolTable& symbols, const BtfLayout& btf, const std::string& source) {
  if (auto start = symbols.address_of("__per_cpu_start"))
    layout.percpu_zero_based = *start == 0;
  else
    layout.missing["__per_cpu_start"] = "not in " + source + "; per-CPU symbols taken as zero-based";
  if (auto rq = symbols.address_of("runqueues"))
    layout.runqueues = *rq;
  else if (auto offset = btf.percpu_offset("runqueues"); offset && layout.percpu_zero_based)
    layout.runqueues = *offset;
  else
    layout.missing["runqueues"] = "not in " + source + " nor in BTF .data..percpu";
}

/// NR_CPUS: struct cpumask holds NR_CPUS bits rounded up to a long (BTF), and
/// __per_cpu_offset[NR_CPUS] cannot extend past the next symbol, so the smaller of the two
/// never reads past the array.
void fill_nr_cpus(KernelLayout& layout, const SymbolTable& symbols, const BtfLayout& btf) {
  uint64_t from_btf = 0, from_spacing = 0;
  if (auto size = btf.struct_size("cpumask")) from_btf = uint64_t{*size} * 8;
  if (layout.symbols.per_cpu_offset)
    if (auto next = symbols.next_address(layout.symbols.per_cpu_offset)) from_spacing = (*next - layout.symbols.per_cpu_offset) / 8;
  uint64_t n = from_btf && from_spacing ? std::min(from_btf, from_spacing) : (from_btf ? from_btf : from_spacing);
  if (n == 0 || n > 1'000'000) {
    layout.missing["nr_cpus_max"] = "no struct cpumask in BTF and no symbol after __per_cpu_offset";
    return;
  }
  layout.nr_cpus_max = static_cast<uint32_t>(n);
}

void fill_release(KernelLayout& layout, const KernelElf& elf) {
  if (!layout.symbols.linux_banner) return;
  for (size_t length : {256, 64}) {
    if (auto bytes = elf.read(layout.symbols.linux_banner, length)) {
      layout.release = release_from_banner({reinterpret_cast<const char*>(bytes->data()), bytes->size()});
      break;
    }
  }
  if (layout.release.empty()) layout.missing["release"] = "linux_banner not readable in the image";
}

}  // namespace

std::string release_from_banner(std::string_view banner) {
  constexpr std::string_view prefix = "Linux version ";
  if (!banner.starts_with(prefix)) return {};
  banner.remove_prefix(prefix.size());
  const size_t end = banner.find_first_of(std::string_view(" \n\0", 3));
  return std::string(banner.substr(0, end == std::string_view::npos ? std::min<size_t>(banner.size(), 64) : end));
}

KernelDescription describe_kernel(const std::filesystem::path& bzimage, const std::filesystem::path& system_map) {
  const auto image = kvm::BzImage::load(bzimage);
  const auto compressed = compressed_payload(image);
  KernelDescription d;
  spdlog::info("decompressing the kernel payload of {} ({} bytes)", bzimage.string(), compressed.size());
  auto start = std::chrono::steady_clock::now();
  auto payload = decompress_payload(compressed);
  d.decompress_seconds = seconds_since(start);
  d.codec = payload.codec;
  d.compressed_size = payload.compressed_size;
  d.payload_size = payload.bytes.size();
  const KernelElf elf(std::move(payload.bytes));

  start = std::chrono::steady_clock::now();
  const auto btf_bytes = elf.section(".BTF");
  if (!btf_bytes || btf_bytes->empty())
    throw ImageError("no BTF: " + bzimage.string() + " has no .BTF section (CONFIG_DEBUG_INFO_BTF is off)");
  auto btf_owned = std::make_shared<const BtfLayout>(*btf_bytes);
  const BtfLayout& btf = *btf_owned;
  d.btf = btf_owned;
  d.btf_size = btf_bytes->size();
  d.btf_seconds = seconds_since(start);

  start = std::chrono::steady_clock::now();
  if (!system_map.empty()) {
    d.symbols = load_system_map(system_map);
    d.symbol_source = "System.map";
  } else {
    try {
      d.symbols = decode_kallsyms(elf.bytes());
    } catch (const ImageError& e) {
      throw ImageError("no symbols: " + std::string(e.what()) + ", and no System.map given");
    }
    d.symbol_source = "kallsyms";
  }
  d.symbols_seconds = seconds_since(start);

  fill_symbols(d.layout, d.symbols, d.symbol_source);
  fill_percpu(d.layout, d.symbols, btf, d.symbol_source);
  fill_nr_cpus(d.layout, d.symbols, btf);
  fill_fields(d.layout, btf);
  fill_release(d.layout, elf);
  spdlog::info("kernel {}: {} payload {} bytes, {} symbols from {}, BTF {} bytes", d.layout.release, d.codec, d.payload_size,
               d.symbols.size(), d.symbol_source, d.btf_size);
  return d;
}

}  // namespace ktstr::guest_kernel
