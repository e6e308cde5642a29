#pragma once
// Hardware watchpoints on guest memory through KVM_SET_GUEST_DEBUG (x86 debug registers),
// and what to make of the #DB exits they cause. GUEST-KERNEL.md §5 is the fact sheet.
//
// Each vCPU has its own debug registers: a watchpoint is armed on every vCPU, each from its
// own thread between two KVM_RUNs (the ioctl waits for vcpu->mutex, which KVM_RUN holds).
// While any slot is armed, the hardware uses our DR0-3/DR7: the guest's own breakpoints
// (perf, ptrace, kgdb) do not fire, and every guest #DB exits to us. With every slot off,
// guest debugging is switched off and the guest's debug registers work again.
#include <linux/kvm.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kvm/vcpu.hpp"

namespace ktstr::kvm {

constexpr uint32_t kWatchSlots = 4;  ///< DR0-DR3
constexpr uint32_t kDebugVector = 1;  ///< #DB (DB_VECTOR)

/// DR6 bits (asm/kvm_host.h, uapi/asm/debugreg.h).
constexpr uint64_t kDr6HitMask = 0xF;     ///< B0-B3: breakpoint N matched
constexpr uint64_t kDr6Bd = 1ull << 13;   ///< a debug-register access while DR7.GD was set
constexpr uint64_t kDr6Bs = 1ull << 14;   ///< single step (TF)
constexpr uint64_t kDr6Bt = 1ull << 15;   ///< task switch with the TSS T flag
constexpr uint64_t kDr7Fixed1 = 0x400;    ///< DR7 bit 10 reads as one

/// What access fires the watchpoint. The values are DR7's R/W encoding.
enum class WatchKind : uint8_t {
  write = 1,       ///< 01: data writes
  read_write = 3,  ///< 11: data reads or writes (not instruction fetches)
};

/// One debug-register slot watching `length` bytes at a guest linear (virtual) address.
struct WatchSlot {
  uint32_t slot = 0;     ///< 0..3: DR0..DR3
  uint64_t address = 0;  ///< guest virtual address, aligned to length
  uint32_t length = 4;   ///< 1, 2, 4 or 8 bytes
  WatchKind kind = WatchKind::write;
};

/// Slot N of the array is DRN; nullopt: not armed.
using WatchSlots = std::array<std::optional<WatchSlot>, kWatchSlots>;

/// Why this slot cannot be armed (slot out of range, length not 1/2/4/8, address not
/// aligned to the length, unknown kind), or nullopt when it can.
std::optional<std::string> watch_slot_error(const WatchSlot& slot);

/// Bit N set when slot N is armed.
uint8_t armed_slots_mask(const WatchSlots& slots);

/// DR7 for these slots: 0x400 | per armed slot N, G enable (2 << 2N), R/W at 16+4N and LEN
/// at 18+4N (1 -> 00, 2 -> 01, 4 -> 11, 8 -> 10). A 4-byte write in slot 0 is 0x000D0402.
uint64_t encode_dr7(const WatchSlots& slots);

/// The KVM_SET_GUEST_DEBUG argument: control = ENABLE | USE_HW_BP with debugreg[N] the
/// address of slot N and debugreg[7] = encode_dr7 when any slot is armed; all zero (guest
/// debugging off) when none is. Throws std::invalid_argument when a slot fails
/// watch_slot_error or sits at the wrong index.
kvm_guest_debug encode_guest_debug(const WatchSlots& slots);

/// What a #DB exit means for us.
struct DebugExitDecision {
  std::vector<uint32_t> our_slots_hit;  ///< armed slots whose B bit is set, ascending
  bool reinject = false;                ///< the guest must see this #DB
};

/// Decision table (dr6 as KVM reports it, active-low bits set):
///   - slot N is ours when dr6 bit N (BN) is set and N is armed;
///   - anything else is the guest's own #DB: BS (single step), BD (debug-register access
///     under GD), BT (task switch), or the B bit of a slot we did not arm;
///   - reinject when no armed slot hit (this includes a #DB with no cause bit at all, such
///     as ICEBP/INT1), or when a guest cause is present alongside our hit.
DebugExitDecision classify_debug_exit(uint64_t dr6, uint8_t armed_slots_mask);

/// DR6 as the guest should read it when its #DB is re-injected: our slots' B bits cleared.
uint64_t guest_dr6(uint64_t dr6, uint8_t armed_slots_mask);

/// `events` (from KVM_GET_VCPU_EVENTS) with a #DB queued as injected (the legacy path,
/// without KVM_CAP_EXCEPTION_PAYLOAD: the DR6 payload goes through KVM_SET_DEBUGREGS).
/// nullopt when an exception is already pending or injected: the #DB cannot be queued.
std::optional<kvm_vcpu_events> with_debug_exception(const kvm_vcpu_events& events);

/// On the vCPU's own thread, between two KVM_RUNs: hands the guest its #DB back, as QEMU's
/// kvm_handle_debug does without exception payloads: the guest's DR6 (KVM_SET_DEBUGREGS,
/// what the guest's handler reads) becomes `dr6`, then the #DB is queued through
/// KVM_SET_VCPU_EVENTS. False when another exception is already queued (nothing changed).
/// Throws Error{kvm} when an ioctl fails.
bool reinject_debug_exception(Vcpu& vcpu, uint64_t dr6);

}  // namespace ktstr::kvm
