#pragma once
// How a process that runs vCPUs sets up the actor runtime; one place for the CLI, the
// benchmarks and the tests, so that what is measured is what runs.
#include <caf/all.hpp>

namespace ktstr::actors {

/// Registers our message types and sets the scheduler: 2 worker threads (the vCPU
/// actors have their own threads) on CAF's work-sharing policy. The default
/// work-stealing policy polls for ~25 ms after each job with 50 us sleeps; on a small
/// host that takes CPU from the vCPU threads, and an event-based actor (the freeze
/// coordinator) then saw its next message only when a worker's sleep ended. Work
/// sharing blocks idle workers on a condition variable that every enqueue signals.
caf::actor_system_config& configure_runtime(caf::actor_system_config& cfg);

/// While vCPUs run, our process never gives memory back to the kernel: munmap/madvise
/// of a multi-threaded process sends TLB-shootdown IPIs to the CPUs running its vCPU
/// threads and waits for them. Under an emulated host (QEMU TCG) a CPU running guest
/// code with interrupts off does not take that IPI, and the waiting CPUs deadlocked the
/// whole nested host. Costs nothing real: the heap stays at its high-water mark.
void keep_heap_mapped();

}  // namespace ktstr::actors
