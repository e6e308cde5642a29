#pragma once
// What the host and ktstr-nested-init (PID 1 of the outer guest) exchange through the
// scratch share: the job (host -> guest) and the status (guest -> host). Shared by both
// sides so the format is defined once. Both directions are parsed as untrusted input:
// sizes are bounded and every field is validated.
//
// Job file: NUL-terminated strings. The first is the magic; then records, each a key
// followed by its values: "cwd" PATH | "arg" S | "env" NAME=VALUE | "share" TAG PATH
// (read-write) | "share-ro" TAG PATH (read-only). PATH is where the share is mounted in
// the nested host; which host directory it shows is QEMU's business (its -virtfs path).
// NUL cannot occur inside argv, environment strings or paths, so no escaping is needed.
// Status file: one line, "exit N", "signal N", "error TEXT" (the nested host failed) or
// "refused TEXT" (the job cannot be started as given, e.g. its working directory is not
// there: the job's fault, not the host's).
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "apps/protocol/printable.hpp"

namespace ktstr::nested {

/// nested-init writes "alive" to the outer console this often while the job runs.
inline constexpr unsigned kAliveIntervalS = 10;

/// Set (to 1) in the job's environment: the command runs inside the nested host.
inline constexpr const char* nested_host_env = "KTSTR_NESTED_HOST";

inline constexpr std::string_view job_magic = "ktstr-nested-job 1";
inline constexpr std::string_view job_file = "job";
inline constexpr std::string_view status_file = "status";
inline constexpr std::string_view scratch_tag = "ktstr_scratch";
inline constexpr std::string_view root_tag = "ktstr_root";
inline constexpr std::size_t max_job_bytes = 8u << 20;
inline constexpr std::size_t max_job_strings = 200000;
inline constexpr std::size_t max_status_bytes = 1024;
inline constexpr std::size_t max_tag_len = 31;

/// Host directories the nested host does not show: the host's root is shared read-only,
/// and nested-init puts a fresh tmpfs (with this mode) over each of these scratch places.
/// Whatever a job needs from under them must come as a share.
struct HiddenDir {
  std::string_view path;
  std::string_view mode;
};
inline constexpr HiddenDir hidden_dirs[] = {{"/tmp", "1777"}, {"/var/tmp", "1777"}, {"/run", "755"}, {"/dev/shm", "1777"}};

/// Whether an absolute, lexically normal path lies in (or is) one of hidden_dirs.
inline bool hidden_in_nested_host(std::string_view path) {
  for (const HiddenDir& d : hidden_dirs)
    if (path.substr(0, d.path.size()) == d.path && (path.size() == d.path.size() || path[d.path.size()] == '/'))
      return true;
  return false;
}

struct Share {
  std::string tag;         ///< 9p mount tag
  std::string path;        ///< absolute path where it is mounted in the nested host
  bool read_only = false;  ///< record "share-ro": mounted read-only (QEMU exports it read-only too)
};

struct Job {
  std::string cwd;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::vector<Share> shares;
};

inline bool valid_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > max_tag_len) return false;
  for (char c : tag)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

inline bool valid_abs_path(std::string_view p) {
  return !p.empty() && p.front() == '/' && p.size() < 4096 && p.find("/../") == std::string_view::npos &&
         !(p.size() >= 3 && p.substr(p.size() - 3) == "/..");
}

/// Serialises a job; throws std::invalid_argument for strings the format cannot carry.
inline std::string encode_job(const Job& job) {
  std::string out;
  auto put = [&](std::string_view s) {
    if (s.find('\0') != std::string_view::npos)
      throw std::invalid_argument("NUL byte in job string");
    out.append(s);
    out.push_back('\0');
  };
  put(job_magic);
  put("cwd");
  put(job.cwd);
  for (const auto& a : job.argv) put("arg"), put(a);
  for (const auto& e : job.env) put("env"), put(e);
  for (const auto& s : job.shares) put(s.read_only ? "share-ro" : "share"), put(s.tag), put(s.path);
  if (out.size() > max_job_bytes) throw std::invalid_argument("job larger than 8 MiB");
  return out;
}

/// Parses and validates a job file; on failure returns nullopt and sets error.
inline std::optional<Job> decode_job(std::string_view bytes, std::string& error) {
  if (bytes.size() > max_job_bytes) return error = "job file too large", std::nullopt;
  if (bytes.empty() || bytes.back() != '\0') return error = "job file truncated", std::nullopt;
  std::vector<std::string_view> s;
  for (std::size_t i = 0; i < bytes.size();) {
    std::size_t end = bytes.find('\0', i);
    s.push_back(bytes.substr(i, end - i));
    if (s.size() > max_job_strings) return error = "too many strings in job file", std::nullopt;
    i = end + 1;
  }
  if (s[0] != job_magic) return error = "job file has no magic '" + std::string(job_magic) + "'", std::nullopt;
  Job job;
  for (std::size_t i = 1; i < s.size();) {
    std::string_view key = s[i];
    const bool share = key == "share" || key == "share-ro";
    std::size_t values = share ? 2 : 1;
    if (i + values >= s.size()) return error = "job record '" + std::string(key.substr(0, 16)) + "' truncated", std::nullopt;
    std::string_view v = s[i + 1];
    if (key == "cwd") {
      if (!valid_abs_path(v)) return error = "job cwd is not an absolute path", std::nullopt;
      job.cwd = v;
    } else if (key == "arg") {
      job.argv.emplace_back(v);
    } else if (key == "env") {
      if (v.find('=') == std::string_view::npos || v.front() == '=')
        return error = "job env entry is not NAME=VALUE", std::nullopt;
      job.env.emplace_back(v);
    } else if (share) {
      if (!valid_tag(v)) return error = "job share tag is invalid", std::nullopt;
      if (!valid_abs_path(s[i + 2]) || s[i + 2] == "/")
        return error = "job share path is not an absolute path below /", std::nullopt;
      for (const Share& other : job.shares)
        if (other.tag == v) return error = "job share tag '" + std::string(v) + "' used twice", std::nullopt;
      job.shares.push_back({std::string(v), std::string(s[i + 2]), key == "share-ro"});
    } else {
      return error = "unknown job record '" + std::string(key.substr(0, 16)) + "'", std::nullopt;
    }
    i += 1 + values;
  }
  if (job.argv.empty() || job.argv[0].empty()) return error = "job has no command", std::nullopt;
  if (job.cwd.empty()) return error = "job has no cwd", std::nullopt;
  return job;
}

struct Status {
  /// error: the nested host failed; refused: the job cannot be started as given.
  enum class Kind { exited, signalled, error, refused } kind = Kind::error;
  int code = 0;         ///< exit code (0-255) or signal number (1-127)
  std::string message;  ///< for error and refused: printable ASCII, one line
};

/// A status message as it is kept: printable (printable.hpp) and at most 400 bytes, so a
/// message from the guest cannot inject terminal controls.
inline std::string status_message(std::string_view text) { return protocol::printable(text, 400); }

inline std::string encode_status(const Status& st) {
  switch (st.kind) {
    case Status::Kind::exited: return "exit " + std::to_string(st.code) + "\n";
    case Status::Kind::signalled: return "signal " + std::to_string(st.code) + "\n";
    case Status::Kind::refused: return "refused " + status_message(st.message) + "\n";
    case Status::Kind::error: break;
  }
  return "error " + status_message(st.message) + "\n";
}

inline std::optional<Status> decode_status(std::string_view bytes, std::string& error) {
  if (bytes.size() > max_status_bytes) return error = "status file too large", std::nullopt;
  if (bytes.empty() || bytes.back() != '\n') return error = "status file incomplete", std::nullopt;
  bytes.remove_suffix(1);
  if (bytes.find('\n') != std::string_view::npos) return error = "status file has several lines", std::nullopt;
  auto number = [](std::string_view d, int max) -> int {
    if (d.empty() || d.size() > 3) return -1;
    int n = 0;
    for (char c : d) {
      if (c < '0' || c > '9') return -1;
      n = n * 10 + (c - '0');
    }
    return n <= max ? n : -1;
  };
  Status st;
  if (bytes.rfind("exit ", 0) == 0) {
    st.kind = Status::Kind::exited;
    st.code = number(bytes.substr(5), 255);
  } else if (bytes.rfind("signal ", 0) == 0) {
    st.kind = Status::Kind::signalled;
    st.code = number(bytes.substr(7), 127);
    if (st.code == 0) st.code = -1;
  } else if (bytes.rfind("error ", 0) == 0) {
    st.message = status_message(bytes.substr(6));
    return st;
  } else if (bytes.rfind("refused ", 0) == 0) {
    st.kind = Status::Kind::refused;
    st.message = status_message(bytes.substr(8));
    return st;
  } else {
    return error = "status file has an unknown form", std::nullopt;
  }
  if (st.code < 0) return error = "status file has an invalid number", std::nullopt;
  return st;
}

}  // namespace ktstr::nested
