#pragma once
// A stand-in for `ktstr-actors run` for the workers' tests: sleeps --timeout/10 seconds,
// then writes a passing result.json holding the SHA-256 of the --kernel it was given (so a
// test sees which bytes arrived) and a second file under dumps/, and prints two lines.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace ktstr::test {

inline std::filesystem::path write_remote_fake_run(const std::filesystem::path& dir) {
  const auto script = dir / "fake-remote-run.sh";
  std::ofstream(script) << "#!/bin/sh\n"
                           "json=''; out=''; kernel=''; t=0\n"
                           "while [ $# -gt 0 ]; do case \"$1\" in --json) json=\"$2\"; shift;; --out) out=\"$2\"; shift;; "
                           "--kernel) kernel=\"$2\"; shift;; --timeout) t=\"$2\"; shift;; esac; shift; done\n"
                           "echo \"fake run: starting\"\n"
                           "sleep $(awk \"BEGIN{print $t/10}\")\n"
                           "sum=$(sha256sum \"$kernel\" | cut -d' ' -f1)\n"
                           "mkdir -p \"$out/dumps\" && echo dump > \"$out/dumps/freeze-1.txt\"\n"
                           "echo \"{\\\"verdict\\\":\\\"pass\\\",\\\"kernel_sha256\\\":\\\"$sum\\\",\\\"scenario\\\":"
                           "{\\\"workers\\\":[{\\\"work_units\\\":100,\\\"max_gap_ms\\\":10}]}}\" > \"$json\"\n"
                           "echo \"fake run: done\"\n";
  ::chmod(script.c_str(), 0755);
  return script;
}

}  // namespace ktstr::test
