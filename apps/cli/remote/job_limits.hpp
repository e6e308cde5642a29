#pragma once
// What a worker and its clients accept of each other (messages/worker.hpp): sizes, names
// and the shape of a job. Both sides check: a worker's peer is a credential holder, not
// trusted to send sane values; a client's worker sends result files whose names become
// paths under the run's output folder.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "messages/worker.hpp"

namespace ktstr::cli {

inline constexpr size_t kChunkBytes = 1u << 20;              ///< a file_chunk / result_chunk's data at most
inline constexpr uint64_t kMaxJobFileBytes = 4ull << 30;     ///< one file a job needs (a kernel is ~15-70 MB)
inline constexpr uint64_t kMaxResultBytes = 512ull << 20;    ///< all result files of one job
inline constexpr size_t kMaxResultFiles = 4096;              ///< result files of one job
inline constexpr size_t kMaxResultPath = 512;                ///< a result file's relative path
inline constexpr size_t kMaxOutputLine = 4096;               ///< a job_output line (longer ones are cut)
inline constexpr size_t kMaxJobArgs = 256;                   ///< strings in a job's lists, together
inline constexpr size_t kMaxJobString = 4096;                ///< any string in a job

/// 64 lowercase hex digits.
bool valid_sha256(const std::string& s);

/// A base name a run may see: [A-Za-z0-9][A-Za-z0-9._+-]{0,63}.
bool valid_file_name(const std::string& s);

/// A relative path of valid file names, at most 8 deep and kMaxResultPath long.
bool valid_result_path(const std::string& s);

/// Why a worker must refuse this job (one line), or nullopt.
std::optional<std::string> check_job(const msg::vm_job& job);

}  // namespace ktstr::cli
