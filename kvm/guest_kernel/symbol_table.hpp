#pragma once
// A kernel's symbols (link-time addresses, nm type letters), from System.map or decoded
// kallsyms: lookup by name, and the nearest symbol at or below an address, which turns a
// guest rip into "name+0xoff".
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ktstr::guest_kernel {

struct Symbol {
  uint64_t address = 0;
  char type = '?';  ///< nm letter: T/t text, D/d data, B/b bss, R/r rodata, A absolute, ...
  std::string name;
  bool operator==(const Symbol&) const = default;
};

/// System.map text beyond this is not a kernel's (a 6.x map is ~10 MiB).
inline constexpr size_t kMaxSystemMapBytes = size_t{256} << 20;

class SymbolTable {
 public:
  SymbolTable() = default;
  /// Any order; kept sorted by address (ties in the given order).
  explicit SymbolTable(std::vector<Symbol> symbols);
  SymbolTable(const SymbolTable& other) : SymbolTable(other.symbols_) {}
  SymbolTable& operator=(const SymbolTable& other) {
    if (this != &other) *this = SymbolTable(other.symbols_);
    return *this;
  }
  // Moving keeps the strings' storage, so the name index stays valid.
  SymbolTable(SymbolTable&&) noexcept = default;
  SymbolTable& operator=(SymbolTable&&) noexcept = default;

  const std::vector<Symbol>& symbols() const { return symbols_; }
  size_t size() const { return symbols_.size(); }
  bool empty() const { return symbols_.empty(); }

  /// The first symbol of that name in address order (static names can repeat).
  const Symbol* find(std::string_view name) const;
  std::optional<uint64_t> address_of(std::string_view name) const;
  /// The symbol with the greatest address <= `address` (the last of equals), or null.
  const Symbol* at_or_before(uint64_t address) const;
  /// The address of the first symbol above `address`, or nullopt.
  std::optional<uint64_t> next_address(uint64_t address) const;
  /// "name+0xoff" ("name" at offset 0), or "0x<address>" when no symbol precedes it.
  std::string symbolize(uint64_t address) const;

 private:
  std::vector<Symbol> symbols_;
  std::unordered_map<std::string_view, size_t> first_by_name_;
};

/// Parses System.map lines "ffffffff81000000 T _text"; throws ImageError naming the first
/// malformed line.
SymbolTable parse_system_map(std::string_view text);
/// Reads System.map, or System.map.xz / .gz / .zst (decompressed with libarchive),
/// at most kMaxSystemMapBytes; throws ImageError.
SymbolTable load_system_map(const std::filesystem::path& path);

}  // namespace ktstr::guest_kernel
