#pragma once
// A message through CAF's binary serializer and back, as messages between hosts will go:
// what the tests of the type-ID block and of each message's inspect check.
#include <catch2/catch.hpp>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <vector>

namespace ktstr::test {

inline caf::message round_trip(caf::actor_system& sys, const caf::message& in) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  if (auto err = sink(const_cast<caf::message&>(in))) FAIL("serialize: " << sys.render(err));
  caf::message out;
  caf::binary_deserializer source{sys, buf};
  if (auto err = source(out)) FAIL("deserialize: " << sys.render(err));
  return out;
}

}  // namespace ktstr::test
