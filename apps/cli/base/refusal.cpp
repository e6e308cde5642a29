#include "apps/cli/base/refusal.hpp"

#include <iostream>

namespace ktstr::cli {

int refuse(int code, std::string_view line) {
  std::cerr << "ktstr-actors: " << line << "\n" << std::flush;
  return code;
}

}  // namespace ktstr::cli
