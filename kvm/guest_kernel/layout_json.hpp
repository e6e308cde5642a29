#pragma once
// KernelLayout as JSON, for the kernel-facts cache and `kernel inspect --json`. Reading is
// strict: any missing or mistyped key throws, so a damaged cache entry counts as a miss.
#include <nlohmann/json.hpp>

#include "kvm/guest_kernel/kernel_layout.hpp"

namespace ktstr::guest_kernel {

nlohmann::json to_json(const KernelLayout& layout);
/// Throws std::runtime_error (nlohmann::json::exception included) on anything malformed.
KernelLayout layout_from_json(const nlohmann::json& j);

}  // namespace ktstr::guest_kernel
