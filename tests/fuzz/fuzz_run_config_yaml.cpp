// Fuzz target: a run configuration in YAML, as `locus train --config run.yaml` reads it
// (agents::read_config_file on a .yaml file, then agents::RunConfig::from_json). Any text must give
// a RunConfig or a ConfigError (bad YAML included).

#include <cstddef>
#include <cstdint>

#include "agents/errors.hpp"
#include "agents/run.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static locus::fuzz::ScratchFile file(".yaml");
  const auto& path = file.write(data, size);
  locus::fuzz::expect_clean<locus::agents::ConfigError>([&] {
    const nlohmann::json json = locus::agents::read_config_file(path);
    locus::agents::RunConfig::from_json(json);
  });
  return 0;
}
