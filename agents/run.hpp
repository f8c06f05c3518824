#pragma once
// Training runs on disk: what `locus train` and `locus eval` do.
//
// A run directory holds config.json (the RunConfig), metrics.csv and metrics.jsonl (one row per
// update), dopamine_trace.csv (every transition of the traced envs, trace_envs: reward, value, next
// value, TD error delta, step within the trial), gain_trace.csv (every noradrenaline observation;
// da+na only), checkpoint.bin (written atomically every checkpoint_every updates and at the end)
// and summary.json. With several seeds, DIR/seed_<s>/ is one such directory per seed and
// DIR/summary.json aggregates them (mean and spread).
//
// Resuming reloads checkpoint.bin, drops metric and trace rows written after it, and continues;
// because every checkpoint starts a new segment (Agent::begin_segment), the resumed run equals
// the uninterrupted one. A directory that already holds a run is never overwritten by a new one.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "agents/agent.hpp"

namespace locus::agents {

struct RunConfig {
  AgentConfig agent;
  std::size_t steps = 100000;  // environment steps per agent
  std::size_t eval_every = 0;  // updates between evaluations; 0: only at the end
  std::size_t eval_episodes = 10;
  std::size_t checkpoint_every = 50;  // updates between checkpoints
  std::vector<std::uint64_t> seeds;   // several agents in parallel; empty: agent.seed only
  std::size_t threads = 0;            // 0: every core

  std::vector<std::uint64_t> run_seeds() const;
  void validate() const;
  nlohmann::json to_json() const;
  // The run keys above plus every AgentConfig key, flat (as in a config file); unknown keys throw
  // ConfigError listing the allowed ones.
  static RunConfig from_json(const nlohmann::json& json);
  static std::vector<std::string> keys();
};
void apply_json(RunConfig& config, const nlohmann::json& json);

// A config file: JSON (.json) or YAML (.yaml, .yml), as a JSON object.
nlohmann::json read_config_file(const std::filesystem::path& path);

// Called after every update of every agent (from worker threads, one call at a time per agent).
using ProgressFn = std::function<void(std::size_t agent_index, const UpdateStats&, const Agent&)>;

// Trains into `dir` (created; must not hold a run) or, with resume, continues the run in `dir`
// (config.steps may extend it). Returns the summary written to dir/summary.json.
nlohmann::json train(const RunConfig& config, const std::filesystem::path& dir,
                     const ProgressFn& progress = {});
// `precision`, when given, replaces the run's matmul precision from here on (saved in config.json).
nlohmann::json resume(const std::filesystem::path& dir, std::optional<std::size_t> steps,
                      const ProgressFn& progress = {},
                      std::optional<neuromod::MatmulPrecision> precision = std::nullopt);
// The run's configuration as saved in dir/config.json.
RunConfig load_run_config(const std::filesystem::path& dir);
// Evaluates the checkpoint(s) of a run directory; writes dir/eval.json and returns it.
nlohmann::json evaluate(const std::filesystem::path& dir, std::size_t episodes,
                        std::optional<std::uint64_t> seed = std::nullopt);

}  // namespace locus::agents
