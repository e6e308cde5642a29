#include "worker_context.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <new>

namespace ktstr::agent {

namespace {
constexpr int64_t kSlowTickNs = 100'000'000;  // affinity mask and schedstat refresh

template <class T>
T* map_shared() {
  void* p = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  return new (p) T();
}

std::optional<Schedstat> read_schedstat() {
  int fd = ::open("/proc/self/schedstat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[128];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  return parse_schedstat(std::string_view(buf, static_cast<size_t>(n)));
}

int64_t cpu_time_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}
}  // namespace

WorkerSlot* map_slot() { return map_shared<WorkerSlot>(); }
PairShared* map_pair() { return map_shared<PairShared>(); }
void unmap_slot(WorkerSlot* s) {
  if (s) ::munmap(s, sizeof(WorkerSlot));
}
void unmap_pair(PairShared* p) {
  if (p) ::munmap(p, sizeof(PairShared));
}

int64_t mono_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

void futex_wait(std::atomic<uint32_t>* word, uint32_t expected, int64_t timeout_ns) {
  timespec ts{static_cast<time_t>(timeout_ns / 1'000'000'000), static_cast<long>(timeout_ns % 1'000'000'000)};
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT, expected, &ts, nullptr, 0);
}

void futex_wake(std::atomic<uint32_t>* word, int count) {
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE, count, nullptr, nullptr, 0);
}

WorkerContext::WorkerContext(WorkerSlot* slot, uint32_t checkpoint_us)
    : slot_(slot), checkpoint_ns_(static_cast<int64_t>(checkpoint_us) * 1000) {}

void WorkerContext::read_mask() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return;
  CpuBits bits;
  for (int c = 0; c < CpuBits::kMax && c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) bits.set(c);
  allowed_ = bits;
}

void WorkerContext::begin() {
  int64_t now = mono_ns();
  read_mask();
  seen_gen_ = slot_->mask_gen.load();
  if (auto s = read_schedstat()) {
    slot_->schedstat_ok = true;
    slot_->schedstat_start = slot_->schedstat_last = *s;
  }
  const int64_t released = slot_->released_ns > 0 && slot_->released_ns <= now ? slot_->released_ns : now;
  slot_->started_ns = released;
  slot_->cpu_ns = 0;
  last_slow_ns_ = now;
  slot_->gap.start(released);
  checkpoint(now);
}

void WorkerContext::slow_tick(int64_t now) {
  last_slow_ns_ = now;
  uint32_t gen = slot_->mask_gen.load(std::memory_order_acquire);
  CpuBits before = allowed_;
  read_mask();
  if (gen != seen_gen_) {
    seen_gen_ = gen;
    slot_->isolation.mask_changed(std::max(now, slot_->mask_changed_ns.load()));
  } else if (!(before == allowed_)) {
    slot_->isolation.mask_changed(now);
  }
  slot_->cpu_ns = cpu_time_ns();
  if (slot_->schedstat_ok)
    if (auto s = read_schedstat()) slot_->schedstat_last = *s;
}

void WorkerContext::checkpoint(int64_t now) {
  int cpu = ::sched_getcpu();
  slot_->gap.observe(now, cpu);
  if (cpu >= 0) {
    if (slot_->last_cpu >= 0 && cpu != slot_->last_cpu) ++slot_->migrations;
    slot_->last_cpu = cpu;
    slot_->cpus_used.set(cpu);
  }
  if (now - last_slow_ns_ >= kSlowTickNs || slot_->mask_gen.load(std::memory_order_relaxed) != seen_gen_) slow_tick(now);
  slot_->isolation.observe(now, cpu, allowed_);
}

void WorkerContext::woke(int64_t expected_ns, bool measure_latency) {
  int64_t now = mono_ns();
  if (measure_latency) slot_->latency.add(static_cast<uint64_t>(now > expected_ns ? (now - expected_ns) / 1000 : 0));
  slot_->gap.resume_at(expected_ns < now ? expected_ns : now);
  checkpoint(now);
}

void WorkerContext::refresh_mask_now(int64_t) { read_mask(); }

void WorkerContext::finish() {
  int64_t now = mono_ns();
  checkpoint(now);
  slow_tick(now);
  slot_->stopped_ns = now;
  slot_->finished.store(1, std::memory_order_release);
}

void spin_unit() {
  static volatile uint64_t sink;
  uint64_t x = sink | 1;
  for (int i = 0; i < 1000; ++i) x ^= x << 13, x ^= x >> 7, x ^= x << 17;
  sink = x;
}

uint64_t spin_until(WorkerContext& ctx, int64_t until_ns) {
  uint64_t n = 0;
  while (!ctx.stopping()) {
    spin_unit();
    ctx.add_units();
    ++n;
    ctx.maybe_checkpoint();
    if (mono_ns() >= until_ns) break;
  }
  return n;
}

}  // namespace ktstr::agent
