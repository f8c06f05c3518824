// Fuzz target: a run configuration in JSON, as `locus train --config run.json` reads it
// (nlohmann::json::parse, then agents::RunConfig::from_json). Text that is not JSON is the JSON
// library's to refuse; any JSON value must give a RunConfig or a ConfigError.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "agents/errors.hpp"
#include "agents/run.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return 0;  // not JSON (or a number past double's range): the JSON library refuses it
  }
  locus::fuzz::expect_clean<locus::agents::ConfigError>([&] {
    const auto config = locus::agents::RunConfig::from_json(json);
    // What a run saves in config.json must read back.
    locus::agents::RunConfig::from_json(config.to_json());
  });
  return 0;
}
