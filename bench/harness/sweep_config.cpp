#include "bench/harness/sweep_config.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "bench/harness/cognitive.hpp"
#include "bench/harness/errors.hpp"
#include "bench/harness/rl.hpp"
#include "bench/harness/run_settings.hpp"
#include "bench/harness/setting_reader.hpp"
#include "config/yaml.hpp"
#include "util/path_name.hpp"

namespace locus::bench {

namespace {

using nlohmann::json;
constexpr std::string_view kSource = "sweep config";

json to_json(const YAML::Node& node) {
  try {
    return config::yaml_to_json(node, kSource);
  } catch (const config::ParseError& e) {
    throw InvalidArgumentError(e.what());
  }
}

// Setting keys are checked once the scenario kind is known (it may come after them).
using KeysToCheck = std::vector<std::pair<std::string, std::string>>;  // key, where

std::vector<std::uint64_t> read_seeds(const json& value) {
  if (!value.is_array() || value.empty()) {
    throw InvalidArgumentError(fmt::format(
        "sweep 'seeds' must be a non-empty list of non-negative integers, got {}", value.dump()));
  }
  std::vector<std::uint64_t> seeds;
  for (const auto& seed : value)
    seeds.push_back(setting_converter().convert<std::uint64_t>(seed, "seeds"));
  return seeds;
}

void read_grid(const YAML::Node& node, const json& value, SweepConfig& config, KeysToCheck& keys) {
  if (!value.is_object()) {
    throw InvalidArgumentError("sweep 'grid' must map setting names to lists of values");
  }
  for (const auto& grid_item : node) {
    const auto setting = grid_item.first.Scalar();
    keys.emplace_back(setting, "'grid'");
    const json values = to_json(grid_item.second);
    if (!values.is_array() || values.empty()) {
      throw InvalidArgumentError(fmt::format("grid '{}' must be a non-empty list of values, got {}",
                                             setting, values.dump()));
    }
    config.grid.emplace_back(setting, std::vector<json>(values.begin(), values.end()));
  }
}

void read_methods(const json& value, SweepConfig& config, KeysToCheck& keys) {
  if (!value.is_array() || value.empty()) {
    throw InvalidArgumentError("sweep 'methods' must be a non-empty list of mappings");
  }
  for (const auto& method : value) {
    if (!method.is_object() || !method.contains("name") || !method["name"].is_string() ||
        method["name"].get<std::string>().empty()) {
      throw InvalidArgumentError(
          fmt::format("every method needs a 'name' (a non-empty string); got {}", method.dump()));
    }
    const std::string name = method["name"].get<std::string>();
    check_path_name("method 'name'", name);
    json settings = method;
    settings.erase("name");
    for (const auto& [setting, v] : settings.items()) {
      keys.emplace_back(setting, "method '" + name + "'");
    }
    for (const auto& [existing, s] : config.methods) {
      if (existing == name) {
        throw InvalidArgumentError(fmt::format("method name '{}' appears twice", name));
      }
    }
    config.methods.emplace_back(name, settings);
  }
}

json read_scenario(const json& value) {
  if (!value.is_object() || !value.contains("kind")) {
    throw InvalidArgumentError(
        fmt::format("sweep 'scenario' must be a mapping with a 'kind' (supervised, rl or "
                    "cognitive), got {}",
                    value.dump()));
  }
  if (value["kind"] == "rl") return RlScenario::from_json(value).to_json();
  if (value["kind"] == "cognitive") return CognitiveScenario::from_json(value).to_json();
  if (value["kind"] == "supervised") {
    if (value.size() != 1) {
      throw InvalidArgumentError(
          "a supervised 'scenario' takes only 'kind'; the stream, scenario and the rest are "
          "run settings (in defaults, methods or grid)");
    }
    return nullptr;
  }
  throw InvalidArgumentError(
      fmt::format("sweep 'scenario' kind {} is unknown; kinds: supervised, rl, cognitive",
                  value["kind"].dump()));
}

// One top-level key of the config.
void read_key(const std::string& key, const YAML::Node& node, SweepConfig& config,
              KeysToCheck& keys) {
  const json value = to_json(node);
  if (key == "name") {
    if (!value.is_string()) throw InvalidArgumentError("sweep 'name' must be a string");
    config.name = value.get<std::string>();
    check_path_name("'name'", config.name);
  } else if (key == "description") {
    // Free text for the reader of the config.
  } else if (key == "seeds") {
    config.seeds = read_seeds(value);
  } else if (key == "defaults") {
    if (!value.is_object()) throw InvalidArgumentError("sweep 'defaults' must be a mapping");
    for (const auto& [setting, v] : value.items()) keys.emplace_back(setting, "'defaults'");
    config.defaults = value;
  } else if (key == "grid") {
    read_grid(node, value, config, keys);
  } else if (key == "methods") {
    read_methods(value, config, keys);
  } else if (key == "scenario") {
    config.scenario = read_scenario(value);
  } else {
    throw InvalidArgumentError(fmt::format(
        "unknown sweep key '{}'; keys: name, description, scenario, seeds, defaults, grid, "
        "methods",
        key));
  }
}

void check_setting_keys(const SweepConfig& config, const KeysToCheck& keys) {
  for (const auto& [setting, where] : keys) {
    if (config.cognitive()) {
      if (!is_cognitive_setting(setting)) {
        throw InvalidArgumentError(fmt::format(
            "unknown setting '{}' in {} for a cognitive sweep (scenario kind cognitive); "
            "settings: {}",
            setting, where, cognitive_setting_names()));
      }
    } else if (!config.rl()) {
      check_setting_key(setting, where);
    } else if (!is_rl_setting(setting)) {
      throw InvalidArgumentError(
          fmt::format("unknown setting '{}' in {} for an RL sweep (scenario kind rl); settings: {}",
                      setting, where, rl_setting_names()));
    }
  }
}

}  // namespace

void check_path_name(std::string_view key, const std::string& value) {
  if (const auto problem = util::path_name_problem(value)) {
    throw InvalidArgumentError(
        fmt::format("sweep {} {} cannot name a folder or file: {}; it must be {}", key,
                    json(value).dump(), *problem, util::kPathNameRule));
  }
}

SweepConfig SweepConfig::from_yaml(const std::string& text) {
  YAML::Node root;
  try {
    root = config::load_yaml(text, kSource);
  } catch (const config::ParseError& e) {
    throw InvalidArgumentError(e.what());
  }
  if (!root.IsMap()) throw InvalidArgumentError("sweep config must be a YAML mapping");
  SweepConfig config;
  KeysToCheck keys;
  for (const auto& item : root) read_key(item.first.Scalar(), item.second, config, keys);
  if (config.methods.empty()) throw InvalidArgumentError("sweep config lists no 'methods'");
  check_setting_keys(config, keys);
  return config;
}

json SweepConfig::to_json() const {
  json grid_json = json::array();
  for (const auto& [key, values] : grid) grid_json.push_back({{"key", key}, {"values", values}});
  json methods_json = json::array();
  for (const auto& [method, settings] : methods) {
    methods_json.push_back({{"name", method}, {"settings", settings}});
  }
  return {{"name", name},      {"seeds", seeds},          {"defaults", defaults},
          {"grid", grid_json}, {"methods", methods_json}, {"scenario", scenario}};
}

SweepConfig SweepConfig::from_json(const json& stored) {
  try {
    SweepConfig config;
    config.name = stored.at("name").get<std::string>();
    config.seeds = stored.at("seeds").get<std::vector<std::uint64_t>>();
    config.defaults = stored.at("defaults");
    for (const auto& entry : stored.at("grid")) {
      config.grid.emplace_back(entry.at("key").get<std::string>(),
                               entry.at("values").get<std::vector<json>>());
    }
    for (const auto& entry : stored.at("methods")) {
      config.methods.emplace_back(entry.at("name").get<std::string>(), entry.at("settings"));
    }
    config.scenario = stored.at("scenario");
    return config;
  } catch (const json::exception& e) {
    throw SweepStateError(fmt::format("the stored sweep config is damaged ({})", e.what()));
  }
}

SweepConfig SweepConfig::from_yaml_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw InvalidArgumentError(fmt::format("cannot read sweep config '{}'", path.string()));
  std::stringstream text;
  text << in.rdbuf();
  try {
    return from_yaml(text.str());
  } catch (const InvalidArgumentError& e) {
    throw InvalidArgumentError(fmt::format("{}: {}", path.string(), e.what()));
  }
}

}  // namespace locus::bench
