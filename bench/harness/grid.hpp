#pragma once
// The grid expansion: a sweep's methods x grid points x seeds, each a RunSpec with its merged
// settings (defaults, overridden by the method, overridden by the grid point) parsed into
// RunSettings, its id (the file name stem in DIR/runs/) and the method it takes its gain from.
// SweepConfig::expand() (sweep_config.hpp) is defined here.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/harness/run_settings.hpp"
#include "bench/harness/sweep_config.hpp"

namespace locus::bench {

struct RunSpec {
  std::string id;  // file name stem in DIR/runs/
  std::string method;
  std::uint64_t seed = 0;
  nlohmann::json grid = nlohmann::json::object();      // this run's grid point
  nlohmann::json settings = nlohmann::json::object();  // merged settings (without the seed)
  std::string depends_on;  // fixed_gain_from or matched_lr_from, or empty
  // The index in the expansion of the run depends_on names (its method, same seed and grid
  // point), or -1.
  std::ptrdiff_t source = -1;
  // Scenario kinds rl and cognitive: the scenario's to_json(), written to the run file and
  // compared on resume; null for supervised runs.
  nlohmann::json scenario = nullptr;
  RunSettings run;  // `settings` parsed for `scenario` and `seed`
};

// "key=value key=value" of a grid point (the summary's grid column).
std::string grid_label(const nlohmann::json& grid);

}  // namespace locus::bench
