#include "kvm/guest_memory.hpp"

#include <sys/mman.h>

#include <atomic>
#include <cstring>

#include "kvm/error.hpp"

namespace ktstr::kvm {

GuestMemory::GuestMemory(const MemoryLayout& layout) {
  for (const auto& range : layout.slots()) {
    // NORESERVE: the guest touches only what it uses; the host need not commit it all.
    void* p = ::mmap(nullptr, range.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw_errno(ErrorKind::system, "mmap of " + std::to_string(range.size >> 20) + " MiB guest RAM");
    slots_.push_back({range.base, range.size, static_cast<uint8_t*>(p)});
  }
}

GuestMemory::~GuestMemory() {
  for (const auto& s : slots_) ::munmap(s.host, s.size);
}

uint8_t* GuestMemory::host_ptr(uint64_t gpa, uint64_t len) const {
  for (const auto& s : slots_) {
    if (gpa >= s.gpa && gpa - s.gpa <= s.size && len <= s.size - (gpa - s.gpa)) return s.host + (gpa - s.gpa);
  }
  return nullptr;
}

void GuestMemory::write(uint64_t gpa, std::span<const uint8_t> bytes) {
  uint8_t* p = host_ptr(gpa, bytes.size());
  if (!p)
    throw Error(ErrorKind::system, "guest write of " + std::to_string(bytes.size()) + " bytes at 0x" +
                                       std::to_string(gpa) + " is outside guest RAM");
  std::memcpy(p, bytes.data(), bytes.size());
}

bool GuestMemory::store(uint64_t gpa, uint64_t value, uint32_t size) {
  if ((size != 1 && size != 2 && size != 4 && size != 8) || gpa % size != 0) return false;
  uint8_t* p = host_ptr(gpa, size);
  if (!p) return false;
  // SAFETY: p is inside a slot's mapping, aligned to size (slots start page-aligned); the
  // guest reads the word concurrently, so it must change in one access, never byte by byte.
  switch (size) {
    case 1: std::atomic_ref<uint8_t>(*p).store(static_cast<uint8_t>(value), std::memory_order_seq_cst); break;
    case 2: std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(p)).store(static_cast<uint16_t>(value)); break;
    case 4: std::atomic_ref<uint32_t>(*reinterpret_cast<uint32_t*>(p)).store(static_cast<uint32_t>(value)); break;
    default: std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(p)).store(value); break;
  }
  return true;
}

bool GuestMemory::read(uint64_t gpa, std::span<uint8_t> out) const {
  const uint8_t* p = host_ptr(gpa, out.size());
  if (!p) return false;
  std::memcpy(out.data(), p, out.size());
  return true;
}

}  // namespace ktstr::kvm
