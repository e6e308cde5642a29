#include "apps/cli/kernel/kernel_facts.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "apps/cli/base/read_file.hpp"
#include "apps/cli/kernel/file_digest.hpp"
#include "kvm/error.hpp"
#include "kvm/guest_kernel/image_error.hpp"
#include "kvm/guest_kernel/kernel_description.hpp"
#include "kvm/guest_kernel/layout_json.hpp"

namespace ktstr::cli {

namespace fs = std::filesystem;

namespace {

constexpr int kCacheFormat = 2;  // 2: the BPF map layout

/// The symbols as System.map lines: compact, and read back by the System.map parser.
std::string symbols_text(const guest_kernel::SymbolTable& symbols) {
  std::string out;
  out.reserve(symbols.size() * 40);
  char address[24];
  for (const auto& s : symbols.symbols()) {
    std::snprintf(address, sizeof address, "%016llx ", static_cast<unsigned long long>(s.address));
    out += address;
    out += s.type;
    out += ' ';
    out += s.name;
    out += '\n';
  }
  return out;
}

std::optional<KernelFacts> read_entry(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  try {
    const auto text = read_file(path);
    if (!text) return std::nullopt;
    const auto j = nlohmann::json::parse(*text);
    if (j.at("format").get<int>() != kCacheFormat) return std::nullopt;
    KernelFacts facts;
    facts.layout = guest_kernel::layout_from_json(j.at("layout"));
    facts.symbol_source = j.at("symbol_source").get<std::string>();
    facts.symbols = guest_kernel::parse_system_map(j.at("symbols").get<std::string>());
    facts.ok = true;
    facts.from_cache = true;
    return facts;
  } catch (const std::exception& e) {
    // nlohmann quotes what it last read, which here can be megabytes of symbols.
    spdlog::warn("kernel facts cache entry {} is damaged ({}); describing the kernel again", path.string(),
                 std::string_view(e.what()).substr(0, 160));
    return std::nullopt;
  }
}

void write_entry(const fs::path& path, const KernelFacts& facts) {
  const nlohmann::json j{{"format", kCacheFormat},
                         {"layout", guest_kernel::to_json(facts.layout)},
                         {"symbol_source", facts.symbol_source},
                         {"symbols", symbols_text(facts.symbols)}};
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  // Written beside its final name and renamed: a reader sees the old entry or the new one.
  const fs::path tmp = path.string() + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << j.dump();
    if (!out) {
      spdlog::warn("could not write the kernel facts cache {}", tmp.string());
      fs::remove(tmp, ec);
      return;
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    spdlog::warn("could not store the kernel facts cache {}: {}", path.string(), ec.message());
    fs::remove(tmp, ec);
  }
}

}  // namespace

fs::path kernel_facts_path(const fs::path& cache_dir, const fs::path& bzimage, const fs::path& system_map) {
  const auto image = file_sha256(bzimage);
  if (!image) return {};
  std::string name = *image;
  if (!system_map.empty()) {
    const auto map = file_sha256(system_map);
    if (!map) return {};
    name += "-map-" + map->substr(0, 16);
  }
  return cache_dir / "kernel-facts" / (name + ".json");
}

KernelFacts load_kernel_facts(const fs::path& cache_dir, const fs::path& bzimage, const fs::path& system_map) {
  const fs::path entry = kernel_facts_path(cache_dir, bzimage, system_map);
  if (!entry.empty())
    if (auto cached = read_entry(entry)) return std::move(*cached);
  KernelFacts facts;
  try {
    auto d = guest_kernel::describe_kernel(bzimage, system_map);
    facts.layout = std::move(d.layout);
    facts.symbols = std::move(d.symbols);
    facts.symbol_source = d.symbol_source;
    facts.ok = true;
  } catch (const kvm::Error& e) {
    facts.why = e.what();
    return facts;
  } catch (const guest_kernel::ImageError& e) {
    facts.why = e.what();
    return facts;
  } catch (const std::exception& e) {
    facts.why = std::string("kernel not readable: ") + e.what();
    return facts;
  }
  if (!entry.empty()) write_entry(entry, facts);
  return facts;
}

}  // namespace ktstr::cli
