#pragma once
// Linux CPU list text ("0-3,6", as in /sys and cpuset.cpus). Header-only and free of
// dependencies: the host and the static guest agent both write it.
#include <cstddef>
#include <string>
#include <vector>

namespace ktstr::kvm {

/// "0-3,6" for {0,1,2,3,6}; "" for none. Input sorted ascending, without duplicates.
template <typename Int>
std::string format_sorted_cpu_list(const std::vector<Int>& cpus) {
  std::string out;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(cpus[i]);
    if (j > i) out += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace ktstr::kvm
