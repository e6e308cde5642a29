#include "apps/cli/kernel/kbuild_estimate.hpp"

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

namespace ktstr::cli {

namespace fs = std::filesystem;

namespace {

using Vars = std::map<std::string, std::vector<std::string>>;

/// Replaces $(CONFIG_X) by its value ("y", "m" or "") and $(SRCARCH) by the arch; false
/// when another variable or function remains (the entry is then ignored).
bool expand(std::string& s, const Kconfig& config, const std::string& srcarch) {
  std::size_t pos;
  while ((pos = s.find("$(")) != std::string::npos) {
    std::size_t end = s.find(')', pos);
    if (end == std::string::npos) return false;
    std::string name = s.substr(pos + 2, end - pos - 2);
    std::string value;
    if (name.rfind("CONFIG_", 0) == 0) {
      value = kconfig_value(config, name.substr(7));
      if (value == "n") value.clear();
    } else if (name == "SRCARCH") {
      value = srcarch;
    } else {
      return false;
    }
    s.replace(pos, end - pos + 1, value);
  }
  return true;
}

/// Assignments of a makefile: variable -> words, accumulated over +=, := and =.
Vars read_assignments(const fs::path& file, const Kconfig& config, const std::string& srcarch) {
  Vars vars;
  std::ifstream in(file);
  std::string line, joined;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\\') {
      joined += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    joined += line;
    std::string l = std::move(joined);
    joined.clear();
    if (auto hash = l.find('#'); hash != std::string::npos) l.erase(hash);
    if (l.empty() || l[0] == '\t') continue;  // recipe lines
    std::size_t op = l.find('=');
    if (op == std::string::npos || op == 0) continue;
    std::size_t lhs_end = op;
    if (l[op - 1] == '+' || l[op - 1] == ':' || l[op - 1] == '?') --lhs_end;
    std::string lhs = l.substr(0, lhs_end);
    lhs.erase(0, lhs.find_first_not_of(" \t"));
    lhs.erase(lhs.find_last_not_of(" \t") + 1);
    if (lhs.empty() || lhs.find_first_of(" \t:") != std::string::npos) continue;
    if (!expand(lhs, config, srcarch)) continue;
    std::istringstream words(l.substr(op + 1));
    std::string w;
    auto& list = vars[lhs];
    while (words >> w)
      if (expand(w, config, srcarch) && !w.empty()) list.push_back(w);
  }
  return vars;
}

struct Walker {
  const fs::path& tree;
  const Kconfig& config;
  const std::string& srcarch;
  std::set<std::string> seen;

  fs::path makefile(const std::string& dir) const {
    fs::path kbuild = tree / dir / "Kbuild";
    std::error_code ec;
    return fs::is_regular_file(kbuild, ec) ? kbuild : tree / dir / "Makefile";
  }

  std::size_t count_dir(const std::string& dir) {
    if (!seen.insert(dir).second) return 0;
    return count_entries(dir, read_assignments(makefile(dir), config, srcarch));
  }

  std::size_t count_entries(const std::string& dir, const Vars& vars) {
    std::size_t n = 0;
    for (const char* key : {"obj-y", "lib-y", "core-y", "drivers-y", "libs-y"}) {
      auto it = vars.find(key);
      if (it == vars.end()) continue;
      for (const auto& entry : it->second) n += count_entry(dir, entry, vars);
    }
    return n;
  }

  std::size_t count_entry(const std::string& dir, const std::string& entry, const Vars& vars) {
    if (entry.back() == '/') return count_dir(dir + entry);
    if (entry.size() < 3 || entry.compare(entry.size() - 2, 2, ".o") != 0) return 0;
    // A composite object is linked from its parts, which are what gets compiled.
    std::string base = entry.substr(0, entry.size() - 2);
    std::size_t parts = 0;
    bool composite = false;
    for (const std::string& suffix : {std::string("-y"), std::string("-objs")}) {
      auto it = vars.find(base + suffix);
      if (it == vars.end()) continue;
      composite = true;
      for (const auto& p : it->second)
        if (p != entry && p.size() > 2 && p.compare(p.size() - 2, 2, ".o") == 0) ++parts;
    }
    return composite ? parts : 1;
  }
};

}  // namespace

std::size_t estimate_kbuild_objects(const fs::path& tree, const Kconfig& config, const std::string& srcarch) {
  std::error_code ec;
  if (!fs::is_regular_file(tree / "Kbuild", ec)) return 0;
  Walker w{tree, config, srcarch, {}};
  Vars top = read_assignments(tree / "Kbuild", config, srcarch);
  // $(ARCH_CORE), $(ARCH_LIB) and $(ARCH_DRIVERS) come from the top Makefile (libs-y :=
  // lib/) and arch/<arch>/Makefile (core-y, libs-y, drivers-y): their directories count.
  Vars arch = read_assignments(tree / "arch" / srcarch / "Makefile", config, srcarch);
  auto& obj = top["obj-y"];
  if (obj.empty()) return 0;
  obj.push_back("lib/");
  for (const char* key : {"core-y", "libs-y", "drivers-y"})
    for (const auto& e : arch[key])
      if (e.back() == '/') obj.push_back(e);
  std::size_t n = 0;
  for (const auto& e : obj) n += w.count_entry("", e, top);
  return n;
}

}  // namespace ktstr::cli
