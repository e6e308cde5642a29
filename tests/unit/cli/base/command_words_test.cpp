#include <catch2/catch.hpp>

#include "apps/cli/base/command_words.hpp"

using ktstr::cli::join_command;
using ktstr::cli::split_command;
using Words = std::vector<std::string>;

TEST_CASE("command words: a command line splits as a shell splits it, without expansions") {
  CHECK(split_command("hackbench -g 4  -l 200").words == Words{"hackbench", "-g", "4", "-l", "200"});
  CHECK(split_command("  stress-ng --cpu 2 ").words == Words{"stress-ng", "--cpu", "2"});
  CHECK(split_command(R"(sh -c 'echo "a b"; exit 3')").words == Words{"sh", "-c", R"(echo "a b"; exit 3)"});
  CHECK(split_command(R"(x "a \"q\" \$HOME \n" b\ c '')").words == Words{"x", R"(a "q" $HOME \n)", "b c", ""});
  CHECK(split_command("").words.empty());
  CHECK(split_command("a'b'\"c\"").words == Words{"abc"});
}

TEST_CASE("command words: malformed command lines say why") {
  CHECK(split_command("sh -c 'oops").error == "an unclosed ' quote");
  CHECK(split_command("sh -c \"oops").error == "an unclosed \" quote");
  CHECK(split_command("trailing\\").error == "a trailing backslash");
}

TEST_CASE("command words: joined words split back unchanged") {
  const std::vector<Words> cases = {
      {"hackbench", "-g", "4"}, {"sh", "-c", "echo 'it''s' \"x\"; exit 3"}, {"a b", "", "tab\there", "back\\slash"},
      {"--metrics-brief", "--timeout=20s", "/usr/bin/stress-ng"}, {"$HOME", "`x`", "*", "new\nline"}};
  for (const auto& words : cases) {
    INFO(join_command(words));
    auto back = split_command(join_command(words));
    CHECK(back.error.empty());
    CHECK(back.words == words);
  }
  CHECK(join_command({"hackbench", "-l", "200"}) == "hackbench -l 200");
}
