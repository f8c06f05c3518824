#pragma once
// A sweep's config, read from YAML once: its name, seeds, default settings, grid, methods and
// scenario. The format is described in sweep.hpp; each run's merged settings are parsed into
// RunSettings (run_settings.hpp) when the config expands into runs (grid.hpp).

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace locus::bench {

struct RunSpec;

struct SweepConfig {
  std::string name = "sweep";
  std::vector<std::uint64_t> seeds = {0};
  nlohmann::json defaults = nlohmann::json::object();
  std::vector<std::pair<std::string, std::vector<nlohmann::json>>> grid;  // in file order
  std::vector<std::pair<std::string, nlohmann::json>> methods;            // name, its settings
  // Null for supervised (Fashion-MNIST) sweeps; the scenario's to_json() for kind rl
  // (RlScenario) and kind cognitive (CognitiveScenario).
  nlohmann::json scenario = nullptr;
  bool rl() const { return !scenario.is_null() && scenario["kind"] == "rl"; }
  bool cognitive() const { return !scenario.is_null() && scenario["kind"] == "cognitive"; }

  // Throws InvalidArgumentError naming the bad key or value (and YAML errors with their line).
  static SweepConfig from_yaml(const std::string& text);
  static SweepConfig from_yaml_file(const std::filesystem::path& path);
  // The config as JSON, kept in DIR/sweep.json so that `locus sweep merge` reads it back
  // (from_json; throws SweepStateError when the stored config is damaged).
  nlohmann::json to_json() const;
  static SweepConfig from_json(const nlohmann::json& stored);
  // Every run in a fixed order (methods, then grid points, then seeds), checked: unknown settings,
  // bad values and missing fixed_gain_from methods fail here, before anything runs. Defined in
  // grid.cpp (the grid expansion).
  std::vector<RunSpec> expand() const;
};

// Throws InvalidArgumentError when `value` (the sweep's name or a method's, which become folder
// and file names) cannot name a file inside the output folder.
void check_path_name(std::string_view key, const std::string& value);

}  // namespace locus::bench
