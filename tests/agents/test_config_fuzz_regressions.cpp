// Inputs the run-config fuzz targets (tests/fuzz/fuzz_run_config_*.cpp) found to escape the config
// reader as a raw nlohmann::json exception instead of a ConfigError (the YAML reader now refuses
// text that is not UTF-8; the JSON parser always did).

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "agents/errors.hpp"
#include "agents/run.hpp"

using namespace locus::agents;
namespace fs = std::filesystem;

TEST_CASE("a YAML run config that is not UTF-8 is a ConfigError", "[agents][config]") {
  const fs::path path =
      fs::temp_directory_path() / ("locus_fuzz_regression_" + std::to_string(::getpid()) + ".yaml");
  // A byte 0xFF where the learning rate goes: the message quoting the value used to throw
  // nlohmann's type_error 316 (invalid UTF-8) out of RunConfig::from_json.
  std::ofstream(path) << "env: CartPole-v1\nlearning_rate: \xff\n";
  REQUIRE_THROWS_AS(RunConfig::from_json(read_config_file(path)), ConfigError);
  fs::remove(path);
}
