#pragma once
// Between an experiment (the client) and a remote worker (`ktstr-actors worker`), over
// CAF's middleman, TLS when the pool has credentials. Protocol, one job = one VM run:
//   client -> worker  worker_hello            => worker_info
//   client -> worker  job_offer               => job_accepted (refused non-empty: why not)
//   client -> worker  file_chunk (each missing file, in order, one at a time) => chunk_ack
//   client -> worker  job_start               => job_started
//   worker -> client  job_output*, result_chunk*, job_done   (to the actor that sent job_start)
//   client -> worker  job_cancel              (SIGTERM to the run, SIGKILL after a grace)
// Files travel by content (SHA-256) and are cached on the worker under their hash; no name
// from the peer ever becomes a path there but a validated base name inside a job's folder.
// Every size below is bounded by both sides (apps/cli/remote/job_limits.hpp).
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ktstr::msg {

inline constexpr uint32_t worker_protocol = 1;

/// A file a job needs: its content hash and size; `name` is the base name the run sees.
struct job_file {
  std::string sha256;  ///< 64 lowercase hex digits; empty: no such file in this job
  uint64_t size = 0;
  std::string name;    ///< [A-Za-z0-9][A-Za-z0-9._+-]{0,63}
};

/// One VM run, as `ktstr-actors run` takes it, with files by content.
struct vm_job {
  std::string name;                   ///< the run's name (for logs and progress only)
  std::string topology;
  uint32_t memory_mib = 0;            ///< 0: run's default
  uint32_t timeout_s = 0;             ///< 0: run's default
  job_file kernel;                    ///< the bzImage
  job_file scheduler;                 ///< empty sha256: the kernel's built-in scheduler
  std::vector<std::string> scheduler_args;
  std::string scenario;               ///< a built-in scenario's name (when no scenario_file)
  job_file scenario_file;             ///< a scenario file
  std::vector<std::string> faults;    ///< run --fault specs
  std::vector<std::string> payload;   ///< payload argv; payload[0] is replaced by payload_program's path
  job_file payload_program;
};

struct worker_hello {
  uint32_t protocol = worker_protocol;
  std::string client;  ///< who asks (host name), for the worker's log
};

struct worker_info {
  uint32_t protocol = worker_protocol;
  std::string host;     ///< the worker's host name
  uint32_t slots = 0;   ///< VM runs at once
  uint32_t busy = 0;    ///< slots taken now
  std::string refuses;  ///< non-empty: no job can run here, and why (e.g. no usable /dev/kvm)
};

struct job_offer {
  vm_job job;
};

struct job_accepted {
  uint64_t job_id = 0;
  std::vector<std::string> missing;  ///< sha256s to send, in this order
  std::string refused;               ///< non-empty: not accepted, and why (full, no KVM, bad job)
};

struct file_chunk {
  uint64_t job_id = 0;
  std::string sha256;
  uint64_t offset = 0;      ///< must be what the worker has so far
  std::vector<char> data;   ///< at most job_limits' chunk size
};

struct chunk_ack {
  uint64_t job_id = 0;
  uint64_t received = 0;  ///< bytes of this file so far
  bool complete = false;  ///< the whole file arrived and its hash matched
  std::string error;      ///< non-empty: the chunk was refused and the job dropped, and why
};

struct job_start {
  uint64_t job_id = 0;
};

struct job_started {
  uint64_t job_id = 0;
  int32_t pid = 0;    ///< the run's process on the worker
  std::string error;  ///< non-empty: not started, and why
};

/// A line the run printed (its progress), worker -> client.
struct job_output {
  uint64_t job_id = 0;
  std::string line;
};

/// A piece of a file the run left in its output folder, worker -> client; `path` relative.
struct result_chunk {
  uint64_t job_id = 0;
  std::string path;
  uint64_t offset = 0;
  std::vector<char> data;
  bool last = false;  ///< the file ends here
};

/// The run ended; every result_chunk of it was sent before this.
struct job_done {
  uint64_t job_id = 0;
  int32_t exit_code = -1;
  int32_t signal = 0;
  double elapsed_s = 0;
  std::string error;  ///< could not be started, or its results not sent: why
};

struct job_cancel {
  uint64_t job_id = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_file& x) {
  return f(caf::meta::type_name("job_file"), x.sha256, x.size, x.name);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, vm_job& x) {
  return f(caf::meta::type_name("vm_job"), x.name, x.topology, x.memory_mib, x.timeout_s, x.kernel, x.scheduler,
           x.scheduler_args, x.scenario, x.scenario_file, x.faults, x.payload, x.payload_program);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_hello& x) {
  return f(caf::meta::type_name("worker_hello"), x.protocol, x.client);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_info& x) {
  return f(caf::meta::type_name("worker_info"), x.protocol, x.host, x.slots, x.busy, x.refuses);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_offer& x) {
  return f(caf::meta::type_name("job_offer"), x.job);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_accepted& x) {
  return f(caf::meta::type_name("job_accepted"), x.job_id, x.missing, x.refused);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, file_chunk& x) {
  return f(caf::meta::type_name("file_chunk"), x.job_id, x.sha256, x.offset, x.data);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chunk_ack& x) {
  return f(caf::meta::type_name("chunk_ack"), x.job_id, x.received, x.complete, x.error);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_start& x) {
  return f(caf::meta::type_name("job_start"), x.job_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_started& x) {
  return f(caf::meta::type_name("job_started"), x.job_id, x.pid, x.error);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_output& x) {
  return f(caf::meta::type_name("job_output"), x.job_id, x.line);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, result_chunk& x) {
  return f(caf::meta::type_name("result_chunk"), x.job_id, x.path, x.offset, x.data, x.last);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_done& x) {
  return f(caf::meta::type_name("job_done"), x.job_id, x.exit_code, x.signal, x.elapsed_s, x.error);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_cancel& x) {
  return f(caf::meta::type_name("job_cancel"), x.job_id);
}

}  // namespace ktstr::msg
