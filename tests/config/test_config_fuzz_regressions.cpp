// Inputs the YAML config fuzz target (tests/fuzz/fuzz_config_yaml.cpp) found to get past the
// reader's checks.

#include <catch2/catch.hpp>
#include <string_view>

#include "config/errors.hpp"
#include "config/yaml.hpp"

TEST_CASE("YAML text with NUL bytes is a ParseError naming the byte", "[config]") {
  // 11 bytes with NULs and a form feed: parse_yaml accepted them and returned a string holding
  // the byte 0x80, so dump() (which every config error message quoting a value calls) threw
  // nlohmann's type_error 316 (invalid UTF-8).
  const std::string_view text("n\0\0\0\0\0\0*\0\x0cy", 11);
  REQUIRE_THROWS_WITH(locus::config::parse_yaml(text, "fuzz input"),
                      Catch::Contains("fuzz input, line 1: byte 0x00 is a control character"));
}
