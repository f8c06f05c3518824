// Fuzz target: the YAML config reader behind every YAML config (config/yaml.hpp:
// locus::config::parse_yaml). Any text must give JSON or a config::ParseError; JSON it gives must
// serialize (valid UTF-8, no NaN), since the configs' error messages quote values with dump().

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/errors.hpp"
#include "config/yaml.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  locus::fuzz::expect_clean<locus::config::ParseError>(
      [&] { (void)locus::config::parse_yaml(text, "fuzz input").dump(); });
  return 0;
}
