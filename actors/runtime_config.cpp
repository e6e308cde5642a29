#include "actors/runtime_config.hpp"

#include <malloc.h>

#include "messages/messages.hpp"

namespace ktstr::actors {

caf::actor_system_config& configure_runtime(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::ktstr>();
  cfg.set("scheduler.max-threads", 2);
  cfg.set("scheduler.policy", caf::atom("sharing"));
  return cfg;
}

void keep_heap_mapped() {
  ::mallopt(M_TRIM_THRESHOLD, 1 << 30);
  ::mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest: bigger blocks are rare here
  ::mallopt(M_TOP_PAD, 16 << 20);
}

}  // namespace ktstr::actors
