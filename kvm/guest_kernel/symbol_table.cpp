#include "kvm/guest_kernel/symbol_table.hpp"

#include <archive.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <memory>

#include "kvm/guest_kernel/image_error.hpp"

namespace ktstr::guest_kernel {

SymbolTable::SymbolTable(std::vector<Symbol> symbols) : symbols_(std::move(symbols)) {
  std::stable_sort(symbols_.begin(), symbols_.end(), [](const Symbol& a, const Symbol& b) { return a.address < b.address; });
  first_by_name_.reserve(symbols_.size());
  for (size_t i = 0; i < symbols_.size(); ++i) first_by_name_.emplace(symbols_[i].name, i);
}

const Symbol* SymbolTable::find(std::string_view name) const {
  auto it = first_by_name_.find(name);
  return it == first_by_name_.end() ? nullptr : &symbols_[it->second];
}

std::optional<uint64_t> SymbolTable::address_of(std::string_view name) const {
  const Symbol* s = find(name);
  return s ? std::optional<uint64_t>(s->address) : std::nullopt;
}

const Symbol* SymbolTable::at_or_before(uint64_t address) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                             [](uint64_t a, const Symbol& s) { return a < s.address; });
  return it == symbols_.begin() ? nullptr : &*std::prev(it);
}

std::optional<uint64_t> SymbolTable::next_address(uint64_t address) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                             [](uint64_t a, const Symbol& s) { return a < s.address; });
  return it == symbols_.end() ? std::nullopt : std::optional<uint64_t>(it->address);
}

std::string SymbolTable::symbolize(uint64_t address) const {
  char hex[32];
  const Symbol* s = at_or_before(address);
  if (!s) {
    std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(address));
    return hex;
  }
  if (s->address == address) return s->name;
  std::snprintf(hex, sizeof hex, "+0x%llx", static_cast<unsigned long long>(address - s->address));
  return s->name + hex;
}

SymbolTable parse_system_map(std::string_view text) {
  std::vector<Symbol> symbols;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    Symbol s;
    auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), s.address, 16);
    const size_t rest = static_cast<size_t>(p - line.data());
    if (ec != std::errc{} || rest + 3 > line.size() || line[rest] != ' ' || line[rest + 2] != ' ')
      throw ImageError("System.map line " + std::to_string(line_no) + " is not \"<address> <type> <name>\"");
    s.type = line[rest + 1];
    s.name = std::string(line.substr(rest + 3));
    if (s.name.empty()) throw ImageError("System.map line " + std::to_string(line_no) + " has no name");
    symbols.push_back(std::move(s));
  }
  if (symbols.empty()) throw ImageError("System.map has no symbols");
  return SymbolTable(std::move(symbols));
}

namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

}  // namespace

SymbolTable load_system_map(const std::filesystem::path& path) {
  std::unique_ptr<archive, ArchiveDeleter> a(archive_read_new());
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  archive_entry* entry = nullptr;
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK ||
      archive_read_next_header(a.get(), &entry) != ARCHIVE_OK) {
    const char* why = archive_error_string(a.get());
    throw ImageError("System.map " + path.string() + " not readable: " + (why ? why : "unknown error"));
  }
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    const la_ssize_t n = archive_read_data(a.get(), buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      const char* why = archive_error_string(a.get());
      throw ImageError("System.map " + path.string() + " corrupt: " + (why ? why : "unknown error"));
    }
    if (text.size() + static_cast<size_t>(n) > kMaxSystemMapBytes)
      throw ImageError("System.map " + path.string() + " is larger than " + std::to_string(kMaxSystemMapBytes) + " bytes");
    text.append(buffer, static_cast<size_t>(n));
  }
  return parse_system_map(text);
}

}  // namespace ktstr::guest_kernel
