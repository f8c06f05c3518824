#pragma once
// RunConfig: what `locus train` runs (the agent's config plus the run's steps, evaluations,
// checkpoints, seeds and threads), read from flat config-file keys and saved as a run directory's
// config.json; and what a resumed run may change of it.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agents/config.hpp"

namespace locus::agents {

struct RunConfig {
  // Past these a run is a mistake (a seed list of 1e8 would fill the memory before it started).
  static constexpr std::size_t kMaxSeeds = 4096;
  static constexpr std::size_t kMaxThreads = 4096;
  static constexpr std::size_t kMaxEvalEpisodes = 1000000;

  AgentConfig agent;
  std::size_t steps = 100000;  // environment steps per agent
  std::size_t eval_every = 0;  // updates between evaluations; 0: only at the end
  std::size_t eval_episodes = 10;
  std::size_t checkpoint_every = 50;  // updates between checkpoints
  std::vector<std::uint64_t> seeds;   // several agents in parallel; empty: agent.seed only
  std::size_t threads = 0;            // 0: every core
  // The shared library that registers agent.env, when a plugin does (train records the one loaded
  // with --plugin): train, resume and evaluate load it when the env is not registered yet.
  std::string plugin;

  std::vector<std::uint64_t> run_seeds() const;
  // Every value in range (what a saved config.json must satisfy to be read).
  void validate() const;
  // Throws ConfigError if the agents that train at once cannot fit in the memory available now:
  // checked when a run starts or resumes, not when a saved one is read (to evaluate it, say).
  void check_memory() const;
  nlohmann::json to_json() const;
  // The run keys above plus every AgentConfig key, flat (as in a config file); unknown keys throw
  // ConfigError listing the allowed ones.
  static RunConfig from_json(const nlohmann::json& json);
  static std::vector<std::string> keys();
};
void apply_json(RunConfig& config, const nlohmann::json& json);

// A config file: JSON (.json) or YAML (.yaml, .yml), as a JSON object (config/json.hpp and
// config/yaml.hpp: a key given twice is refused).
nlohmann::json read_config_file(const std::filesystem::path& path);

// The run's configuration as saved in dir/config.json.
RunConfig load_run_config(const std::filesystem::path& dir);

// The settings a resumed run may change: how far it goes, how many threads it uses and its
// products' arithmetic. Any other change would make the rest of the run another experiment.
inline constexpr const char* kResumableKeys[] = {"steps", "threads", "precision"};

struct ResumeChange {
  std::string key;
  nlohmann::json saved, requested;
};

// The saved run's config with `requested` (flat config keys, as the command line or a config
// file gives them) applied. A requested value equal to the saved one is fine; a different one is
// applied for kResumableKeys (and listed in `changes`, if given) and refused for every other key:
// ConfigError names each conflicting key with both values.
RunConfig resumed_config(const RunConfig& saved, const nlohmann::json& requested,
                         std::vector<ResumeChange>* changes = nullptr);

}  // namespace locus::agents
