#include "kvm/guest_kernel/layout_json.hpp"

#include <cstdint>
#include <stdexcept>

#include "kvm/guest_kernel/layout_items.hpp"

namespace ktstr::guest_kernel {
namespace {

const nlohmann::json& required(const nlohmann::json& j, const char* key, nlohmann::json::value_t type) {
  const auto& v = j.at(key);
  const bool ok = v.type() == type ||
                  (type == nlohmann::json::value_t::number_unsigned && v.type() == nlohmann::json::value_t::number_integer &&
                   v.get<int64_t>() >= 0);
  if (!ok) throw std::runtime_error(std::string("kernel layout: ") + key + " has the wrong type");
  return v;
}

using V = nlohmann::json::value_t;

uint32_t required_u32(const nlohmann::json& j, const char* key) {
  const uint64_t v = required(j, key, V::number_unsigned).get<uint64_t>();
  if (v > UINT32_MAX) throw std::runtime_error(std::string("kernel layout: ") + key + " is out of range");
  return static_cast<uint32_t>(v);
}

}  // namespace

nlohmann::json to_json(const KernelLayout& layout) {
  nlohmann::json symbols = nlohmann::json::object(), fields = nlohmann::json::object();
  for (const auto& item : symbol_items()) symbols[std::string(item.name)] = layout.symbols.*item.member;
  for (const auto& item : field_items()) {
    const Field& f = field_of(layout, item);
    fields[std::string(item.name)] = {{"offset", f.offset}, {"size", f.size}};
  }
  return {{"release", layout.release},
          {"symbols", symbols},
          {"runqueues", layout.runqueues},
          {"percpu_zero_based", layout.percpu_zero_based},
          {"nr_cpus_max", layout.nr_cpus_max},
          {"rq_size", layout.rq.size},
          {"bpf_bucket_size", layout.bpf.bucket_size},
          {"fields", fields},
          {"missing", layout.missing}};
}

KernelLayout layout_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::runtime_error("kernel layout: not a JSON object");
  KernelLayout l;
  l.release = required(j, "release", V::string).get<std::string>();
  const auto& symbols = required(j, "symbols", V::object);
  for (const auto& item : symbol_items())
    l.symbols.*item.member = required(symbols, std::string(item.name).c_str(), V::number_unsigned).get<uint64_t>();
  l.runqueues = required(j, "runqueues", V::number_unsigned).get<uint64_t>();
  l.percpu_zero_based = required(j, "percpu_zero_based", V::boolean).get<bool>();
  l.nr_cpus_max = required_u32(j, "nr_cpus_max");
  l.rq.size = required_u32(j, "rq_size");
  l.bpf.bucket_size = required_u32(j, "bpf_bucket_size");
  const auto& fields = required(j, "fields", V::object);
  for (const auto& item : field_items()) {
    const auto& f = required(fields, std::string(item.name).c_str(), V::object);
    Field& out = item.get(l);
    out.offset = required_u32(f, "offset");
    out.size = required_u32(f, "size");
  }
  for (const auto& [key, why] : required(j, "missing", V::object).items()) {
    if (!why.is_string()) throw std::runtime_error("kernel layout: missing." + key + " is not a string");
    l.missing[key] = why.get<std::string>();
  }
  return l;
}

}  // namespace ktstr::guest_kernel
