#include "apps/cli/kernel/kernel_inspect.hpp"

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "apps/cli/base/exit_codes.hpp"
#include "apps/cli/base/refusal.hpp"
#include "apps/cli/kernel/kernel_cache.hpp"
#include "kvm/error.hpp"
#include "kvm/guest_kernel/image_error.hpp"
#include "kvm/guest_kernel/kernel_description.hpp"
#include "kvm/guest_kernel/layout_items.hpp"
#include "kvm/guest_kernel/layout_json.hpp"

namespace ktstr::cli {

namespace fs = std::filesystem;

namespace {

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::optional<fs::path> resolve(const std::string& kernel, const fs::path& cache_dir) {
  std::error_code ec;
  if (fs::exists(kernel, ec) || kernel.find('/') != std::string::npos) return fs::absolute(kernel);
  return cached_kernel(cache_dir, kernel);
}

struct TypeAnswer {
  std::string path;
  bool found = false;
  uint32_t offset = 0, size = 0;
  std::string why;
};

TypeAnswer answer_type(const guest_kernel::BtfLayout& btf, const std::string& path) {
  TypeAnswer a{path};
  if (path.find('.') == std::string::npos) {  // a struct: its size
    if (auto size = btf.struct_size(path)) {
      a.found = true;
      a.size = *size;
    } else {
      a.why = "no struct " + path + " in BTF";
    }
    return a;
  }
  const auto f = btf.member(path);
  a.found = f.field.present();
  a.offset = f.field.offset;
  a.size = f.field.size;
  a.why = f.why;
  return a;
}

void print_row(const std::string& name, const std::string& value) {
  std::printf("  %-32s %s\n", name.c_str(), value.c_str());
}

std::string absent(const guest_kernel::KernelLayout& l, std::string_view item) {
  auto it = l.missing.find(std::string(item));
  return "absent: " + (it == l.missing.end() ? std::string("unknown") : it->second);
}

void print_human(const fs::path& kernel, const guest_kernel::KernelDescription& d, const KernelInspectOptions& o,
                 const std::vector<TypeAnswer>& types) {
  const auto& l = d.layout;
  std::printf("kernel   %s\n", kernel.c_str());
  std::printf("release  %s\n", l.release.empty() ? "?" : l.release.c_str());
  std::printf("payload  %s, %zu bytes compressed, %zu decompressed (%.2f s)\n", d.codec.c_str(), d.compressed_size,
              d.payload_size, d.decompress_seconds);
  std::printf("BTF      %zu bytes\n", d.btf_size);
  std::printf("symbols  %zu from %s (%.2f s)\n", d.symbols.size(), d.symbol_source.c_str(), d.symbols_seconds);
  std::printf("monitor layout%s\n", l.has_sched_ext() ? "" : " (no sched_ext in this kernel)");
  for (const auto& item : guest_kernel::symbol_items()) {
    const uint64_t v = l.symbols.*item.member;
    print_row(std::string(item.name), v ? hex(v) : absent(l, item.name));
  }
  print_row("runqueues", l.runqueues ? hex(l.runqueues) + (l.percpu_zero_based ? " (per-CPU offset)" : " (per-CPU address)")
                                     : absent(l, "runqueues"));
  print_row("nr_cpus_max", l.nr_cpus_max ? std::to_string(l.nr_cpus_max) : absent(l, "nr_cpus_max"));
  print_row("sizeof(struct rq)", l.rq.size ? hex(l.rq.size) : absent(l, "rq"));
  for (const auto& item : guest_kernel::field_items()) {
    const auto& f = guest_kernel::field_of(l, item);
    print_row(std::string(item.name),
              f.present() ? "offset " + hex(f.offset) + " size " + std::to_string(f.size) : absent(l, item.name));
  }
  if (!o.symbols.empty()) std::printf("symbols asked for\n");
  for (const auto& name : o.symbols) {
    const auto* s = d.symbols.find(name);
    print_row(name, s ? hex(s->address) + " " + std::string(1, s->type) : "not found");
  }
  if (!types.empty()) std::printf("types asked for\n");
  for (const auto& t : types) {
    if (!t.found)
      print_row(t.path, "not found: " + t.why);
    else if (t.path.find('.') == std::string::npos)
      print_row(t.path, "size " + hex(t.size));
    else
      print_row(t.path, "offset " + hex(t.offset) + " size " + std::to_string(t.size));
  }
  std::fflush(stdout);
}

void print_json(const fs::path& kernel, const guest_kernel::KernelDescription& d, const KernelInspectOptions& o,
                const std::vector<TypeAnswer>& types) {
  nlohmann::json symbols = nlohmann::json::array(), answers = nlohmann::json::array();
  for (const auto& name : o.symbols) {
    const auto* s = d.symbols.find(name);
    nlohmann::json j{{"name", name}, {"found", s != nullptr}};
    if (s) {
      j["address"] = s->address;
      j["type"] = std::string(1, s->type);
    }
    symbols.push_back(std::move(j));
  }
  for (const auto& t : types) {
    nlohmann::json j{{"path", t.path}, {"found", t.found}};
    if (t.found) {
      j["offset"] = t.offset;
      j["size"] = t.size;
    } else {
      j["why"] = t.why;
    }
    answers.push_back(std::move(j));
  }
  const nlohmann::json out{{"kernel", kernel.string()},
                           {"release", d.layout.release},
                           {"codec", d.codec},
                           {"compressed_size", d.compressed_size},
                           {"payload_size", d.payload_size},
                           {"btf_size", d.btf_size},
                           {"symbol_source", d.symbol_source},
                           {"symbol_count", d.symbols.size()},
                           {"sched_ext", d.layout.has_sched_ext()},
                           {"layout", guest_kernel::to_json(d.layout)},
                           {"symbols", symbols},
                           {"types", answers}};
  std::cout << out.dump(2) << "\n";
}

}  // namespace

int kernel_inspect_main(const KernelInspectOptions& o, const fs::path& cache_dir) {
  const auto kernel = resolve(o.kernel, cache_dir);
  if (!kernel)
    return refuse(exit_kernel_image, "kernel \"" + o.kernel + "\": no such file here and no cached kernel of that name in " +
                                         (cache_dir / "kernels").string() + " (see `ktstr-actors kernel list`)");
  try {
    const auto d = guest_kernel::describe_kernel(*kernel, o.system_map);
    std::vector<TypeAnswer> types;
    for (const auto& path : o.types) types.push_back(answer_type(*d.btf, path));
    if (o.json)
      print_json(*kernel, d, o, types);
    else
      print_human(*kernel, d, o, types);
    return exit_pass;
  } catch (const kvm::Error& e) {
    return refuse(e.kind() == kvm::ErrorKind::boot_protocol ? exit_boot_protocol : exit_kernel_image, e.what());
  } catch (const guest_kernel::ImageError& e) {
    return refuse(exit_kernel_image, "kernel " + kernel->string() + ": " + e.what());
  }
}

}  // namespace ktstr::cli
