#include "agents/run_config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "agents/errors.hpp"
#include "config/json.hpp"
#include "config/yaml.hpp"
#include "util/memory.hpp"

namespace locus::agents {
namespace fs = std::filesystem;

namespace {

constexpr const char* kRunKeys[] = {"steps", "eval_every", "eval_episodes", "checkpoint_every",
                                    "seeds", "threads",    "plugin"};

// A setting as a person wrote it: float settings are stored as float, so 0.1 reads back as
// 0.10000000149011612 with all its digits.
std::string shown(const nlohmann::json& value) {
  return value.is_number_float() ? fmt::format("{:.7g}", value.get<double>()) : value.dump();
}

}  // namespace

std::vector<std::uint64_t> RunConfig::run_seeds() const {
  return seeds.empty() ? std::vector<std::uint64_t>{agent.seed} : seeds;
}

void RunConfig::validate() const {
  agent.validate();
  if (steps == 0) throw ConfigError("config key 'steps' must be positive, got 0");
  if (checkpoint_every == 0) {
    throw ConfigError("config key 'checkpoint_every' must be positive, got 0");
  }
  if (eval_episodes == 0) throw ConfigError("config key 'eval_episodes' must be positive, got 0");
  if (eval_episodes > kMaxEvalEpisodes) {
    throw ConfigError(fmt::format("config key 'eval_episodes' must be at most {}, got {}",
                                  kMaxEvalEpisodes, eval_episodes));
  }
  if (seeds.size() > kMaxSeeds) {
    throw ConfigError(fmt::format(
        "config key 'seeds' lists {} seeds; a run trains at most {} agents (split it into runs)",
        seeds.size(), kMaxSeeds));
  }
  if (threads > kMaxThreads) {
    throw ConfigError(
        fmt::format("config key 'threads' must be at most {}, got {}", kMaxThreads, threads));
  }
  std::set<std::uint64_t> distinct;
  for (const std::uint64_t seed : seeds) {
    if (!distinct.insert(seed).second) {
      throw ConfigError(fmt::format("config key 'seeds' lists seed {} twice", seed));
    }
  }
}

void RunConfig::check_memory() const {
  // The agents that train at once each hold their own network, envs and rollout.
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t at_once = std::min(run_seeds().size(), threads == 0 ? cores : threads);
  util::require_memory<ConfigError>(
      util::saturating_mul(agent.memory_estimate(1, 1), at_once),
      fmt::format("{} agents training at once", at_once),
      "train fewer at once (threads), or lower num_envs, rollout_steps or the hidden widths");
}

std::vector<std::string> RunConfig::keys() {
  std::vector<std::string> out(std::begin(kRunKeys), std::end(kRunKeys));
  for (const auto& key : AgentConfig::keys()) out.push_back(key);
  return out;
}

nlohmann::json RunConfig::to_json() const {
  nlohmann::json out = agent.to_json();
  out["steps"] = steps;
  out["eval_every"] = eval_every;
  out["eval_episodes"] = eval_episodes;
  out["checkpoint_every"] = checkpoint_every;
  out["seeds"] = seeds;
  out["threads"] = threads;
  if (!plugin.empty()) out["plugin"] = plugin;  // configs of runs without one stay as they were
  return out;
}

void apply_json(RunConfig& config, const nlohmann::json& json) {
  config::Reader reader = config_reader(json, "a run config");
  config.steps = reader.get<std::size_t>("steps", config.steps);
  config.eval_every = reader.get<std::size_t>("eval_every", config.eval_every);
  config.eval_episodes = reader.get<std::size_t>("eval_episodes", config.eval_episodes);
  config.checkpoint_every = reader.get<std::size_t>("checkpoint_every", config.checkpoint_every);
  config.threads = reader.get<std::size_t>("threads", config.threads);
  config.plugin = reader.get<std::string>("plugin", config.plugin);
  if (const nlohmann::json* seeds = reader.get_raw("seeds")) {
    if (!seeds->is_array())
      reader.fail("config key 'seeds' must be a list of integers, got " + seeds->dump());
    config.seeds.clear();
    for (const auto& seed : *seeds)
      config.seeds.push_back(reader.convert<std::uint64_t>(seed, "seeds"));
  }
  read_fields(config.agent, reader);
  reader.finish();
}

RunConfig RunConfig::from_json(const nlohmann::json& json) {
  RunConfig config;
  apply_json(config, json);
  config.validate();
  return config;
}

nlohmann::json read_config_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("config file {} cannot be read", path.string()));
  std::stringstream text;
  text << in.rdbuf();
  const std::string ext = path.extension().string();
  try {
    if (ext == ".yaml" || ext == ".yml") {
      return config::parse_yaml(text.str(), fmt::format("config file {}", path.string()));
    }
    return config::parse_json(text.str(), fmt::format("config file {}", path.string()));
  } catch (const config::ParseError& e) {
    throw ConfigError(e.what());
  }
}

RunConfig load_run_config(const fs::path& dir) {
  const fs::path path = dir / "config.json";
  if (!fs::exists(path)) {
    throw RunDirectoryError(fmt::format("{} holds no run (no config.json)", dir.string()));
  }
  std::ifstream in(path);
  try {
    return RunConfig::from_json(nlohmann::json::parse(in));
  } catch (const nlohmann::json::exception& e) {
    throw RunDirectoryError(fmt::format("{} is not valid JSON: {}", path.string(), e.what()));
  }
}

RunConfig resumed_config(const RunConfig& saved, const nlohmann::json& requested,
                         std::vector<ResumeChange>* changes) {
  if (!requested.is_object()) {
    throw ConfigError(
        fmt::format("the settings of a resumed run must be an object, got {}", requested.dump()));
  }
  RunConfig updated = saved;
  apply_json(updated, requested);
  updated.validate();
  updated.check_memory();
  const nlohmann::json before = saved.to_json(), after = updated.to_json();
  std::vector<std::string> conflicts;
  for (const auto& [key, value] : requested.items()) {
    if (after.at(key) == before.at(key)) continue;
    const bool resumable = std::find_if(std::begin(kResumableKeys), std::end(kResumableKeys),
                                        [&name = key](const char* k) { return name == k; }) !=
                           std::end(kResumableKeys);
    if (resumable) {
      if (changes != nullptr) changes->push_back({key, before.at(key), after.at(key)});
    } else {
      conflicts.push_back(fmt::format("{} is {} in the saved run, {} requested", key,
                                      shown(before.at(key)), shown(after.at(key))));
    }
  }
  if (!conflicts.empty()) {
    throw ConfigError(fmt::format(
        "a resumed run keeps its settings, but {}; a resumed run may change only {} (drop the "
        "other settings, or start a new run with --out)",
        fmt::join(conflicts, "; "), fmt::join(kResumableKeys, ", ")));
  }
  return updated;
}

}  // namespace locus::agents
