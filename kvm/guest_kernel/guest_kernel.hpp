#pragma once
// A running guest kernel seen from the host: located once from the BSP's registers and its
// layout (KASLR slide, physical placement, direct map, online CPUs), then sampled lock-free
// from guest RAM. Everything read from the guest is untrusted: bounds-checked, validated,
// and a torn or nonsensical value comes back unreadable (ok=false), never a crash or hang.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "kvm/guest_kernel/bpf_maps.hpp"
#include "kvm/guest_kernel/cpu_sample.hpp"
#include "kvm/guest_kernel/kernel_address_space.hpp"
#include "kvm/guest_kernel/kernel_layout.hpp"
#include "kvm/guest_kernel/physical_memory.hpp"

namespace ktstr::kvm {
class GuestMemory;
}

namespace ktstr::guest_kernel {

/// The BSP's MSR_LSTAR and control registers; the number of vCPUs.
struct LocateInput {
  uint64_t lstar = 0;
  uint64_t cr3 = 0;
  uint64_t cr4 = 0;
  uint32_t vcpus = 0;
};

struct Located {
  int64_t slide = 0;
  uint64_t pa_text = 0;
  uint64_t page_offset_base = 0;
  bool la57 = false;
  std::vector<uint32_t> cpus;            ///< online CPUs (from __cpu_online_mask, < min(nr_cpu_ids, vcpus, nr_cpus_max))
  std::vector<uint64_t> per_cpu_offset;  ///< indexed by CPU id; 0 for CPUs not online
  std::string banner;                    ///< linux_banner as read from the guest, printable, trimmed
};

class LocateError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Bound of a runqueue's runnable-list walk (CpuSample::runnable_truncated past it).
inline constexpr size_t kRunnableListBound = 256;

class GuestKernel {
 public:
  /// Finds the running kernel: slide = lstar - entry_syscall_64 (must be a multiple of 2 MiB and < 1 GiB),
  /// pa(_text) by walking cr3 for lstar, then page_offset_base, __pgtable_l5_enabled (cross-checked with CR4.LA57 bit 12),
  /// __per_cpu_offset[] and the online mask from guest memory; the banner must start "Linux version <layout.release> "
  /// when layout.release is known. Throws LocateError with a one-line reason otherwise.
  static GuestKernel locate(KernelLayout layout, std::shared_ptr<const PhysicalMemory> memory, const LocateInput& in);
  const Located& located() const { return located_; }
  const KernelLayout& layout() const { return layout_; }
  /// The runqueue of that CPU; fields absent from the layout stay ok=false. A CPU that is not
  /// online, or whose rq->cpu does not read back as that CPU, gives a sample with nothing ok.
  /// The runnable list is walked at most kRunnableListBound entries (then runnable_truncated);
  /// a bad pointer, an unreadable task or a cycle leaves runnable_ok false and keeps the tasks
  /// read before it (each of them was read through validated pointers).
  CpuSample sample_cpu(uint32_t cpu) const;
  /// jiffies_64, scx_ops_enable_state_var, scx_exit_kind, scx_watchdog_timeout, scx_ops.name.
  ScxGlobals sample_scx() const;
  /// `size` (1, 2, 4, 8) bytes at a kernel-image symbol's link-time address plus the slide
  /// (a watched word); not ok when unreadable.
  Reading read_kernel_value(uint64_t link_address, uint32_t size) const { return space_.read_uint(slid(link_address), size); }
  /// Guest-physical address of the word at a kernel-image symbol's link-time address plus
  /// the slide (`size` bytes, all in one page: a guest_write's target); nullopt when unmapped.
  std::optional<uint64_t> kernel_word_physical(uint64_t link_address, uint32_t size) const;
  /// Where the exit kind lives now (a 4-byte word): the slid scx_exit_kind (6.12-6.15), or
  /// &scx_root->exit_kind (6.16+; nullopt while scx_root is NULL or implausible, or when
  /// this kernel has neither). What slot 0's hardware watchpoint is armed on.
  std::optional<uint64_t> exit_kind_address() const;
  /// The exit kind alone (the word at exit_kind_address()): what the exit watch polls.
  Reading read_exit_kind() const;
  /// *scx_exit_info (6.12-6.15): kind, exit_code, reason, msg (bounded), backtrace (<= 64).
  ScxExitInfo read_exit_info() const;
  /// Every BPF map in map_idr (at most kBpfMaxMaps): metadata, and the entries of array and
  /// hash maps rendered with the program's BTF (bpf_maps.hpp: the caps). Slow next to a
  /// sample (BTF parsing): meant for a freeze, not for every sample.
  BpfState read_bpf_maps() const;
  /// Reasons for fields this kernel cannot give (from layout.missing and what locate found), by field name:
  /// e.g. {"scx_nr_running", "rq.scx: not in this kernel's BTF"}. Stable names: nr_running, cfs_h_nr_queued, scx_nr_running,
  /// local_dsq_nr, scx_flags, clock, curr, runnable, jiffies, enable_state, exit_kind, watchdog_timeout, ops_name.
  std::map<std::string, std::string> unavailable() const;

 private:
  GuestKernel(KernelLayout layout, KernelAddressSpace space, Located located);
  uint64_t slid(uint64_t link_address) const { return link_address + static_cast<uint64_t>(located_.slide); }
  TaskSummary read_task(uint64_t task) const;

  KernelLayout layout_;
  KernelAddressSpace space_;
  Located located_;
};

/// Guest RAM of a live VM as PhysicalMemory (keep_alive holds what owns the memory).
std::shared_ptr<const PhysicalMemory> physical_memory_of(const kvm::GuestMemory& memory,
                                                         std::shared_ptr<const void> keep_alive);

}  // namespace ktstr::guest_kernel
