#pragma once
// The KVM host probe (kvm/host_probe.hpp) as users and CI see it: `ktstr-actors host
// probe [--json]`, the exit code of each verdict, the "host" object of result.json and
// the JUnit properties. One decision for the CLI and the test suite: scripts/test.sh
// asks `host probe` too.
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "kvm/host_probe.hpp"

namespace ktstr::cli {

/// The verdict, the one-line reason and every piece of evidence.
nlohmann::json probe_json(const kvm::HostProbe& probe);

/// Exit code of `host probe` (and of `run --host=kvm` refusing): usable 0, absent
/// exit_no_host (70), emulated exit_kvm_emulated (83), broken exit_kvm_broken (84).
int probe_exit_code(kvm::ProbeVerdict verdict);

/// Prints the verdict and evidence (or the JSON); returns probe_exit_code.
int host_probe_main(const std::string& device, bool json);


/// result.json's "host": how the VM got its KVM ("kvm" or "nested"), the probe of the
/// /dev/kvm it used (null if not probed) and, for a run inside the nested host, the
/// outer probe that sent it there (from kOuterProbeEnv: bounded, parsed as untrusted).
nlohmann::json host_json(const std::string& mode, const kvm::HostProbe* probe, const char* outer_probe_env);

/// JUnit <property> name/value pairs for a result.json "host" object.
std::vector<std::pair<std::string, std::string>> host_properties(const nlohmann::json& host);

}  // namespace ktstr::cli
