// A watched word's condition: one parser (scenario files) and one test of it (the monitor).
#include <catch2/catch.hpp>

#include "kvm/guest_kernel/word_condition.hpp"

using ktstr::guest_kernel::parse_word_condition;

TEST_CASE("word condition: each operator, decimal and hex, spaces allowed - anything else is refused") {
  struct Case {
    const char* text;
    uint64_t below, at, above;  // what holds for value-1, value, value+1
    bool b, a, c;
  };
  for (const auto& [text, below, at, above, b, a, c] : std::initializer_list<Case>{
           {"== 10", 9, 10, 11, false, true, false},
           {"!=10", 9, 10, 11, true, false, true},
           {" < 10 ", 9, 10, 11, true, false, false},
           {"<= 0xa", 9, 10, 11, true, true, false},
           {"> 10", 9, 10, 11, false, false, true},
           {">=10", 9, 10, 11, false, true, true},
       }) {
    INFO(text);
    const auto c0 = parse_word_condition(text);
    REQUIRE(c0);
    CHECK(c0->value == 10);
    CHECK(c0->holds(below) == b);
    CHECK(c0->holds(at) == a);
    CHECK(c0->holds(above) == c);
  }
  CHECK(parse_word_condition(">= 18446744073709551615")->holds(UINT64_MAX));
  CHECK(parse_word_condition("<= 5")->text() == "<= 5");
  for (const char* bad : {"", ">=", "=> 3", "= 3", ">= -1", ">= 3x", ">= 18446744073709551616", "about 3", "3"}) {
    INFO(bad);
    CHECK_FALSE(parse_word_condition(bad));
  }
}
