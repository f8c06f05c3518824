#pragma once
// A run's settings: the merged JSON of a sweep's defaults, method and grid point, parsed once (by
// SweepConfig::expand, grid.cpp) into RunSettings, which is all the rest of the harness reads.
// The supervised settings (Fashion-MNIST streams) are read here; the RL and cognitive ones by
// rl_config (rl.hpp) and cognitive_config (cognitive.hpp), which parse into their learners'
// configurations the same way.

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "bench/harness/cognitive.hpp"
#include "bench/harness/continual.hpp"
#include "bench/harness/rl.hpp"
#include "bench/harness/supervised.hpp"

namespace locus::bench {

// A supervised run's control that takes another method's mean gain (same seed and grid point):
// fixed_gain_from holds the gain at it, matched_lr_from multiplies lr by it to the power
// matched_lr_power.
struct GainControl {
  enum class Kind { kNone, kFixedGain, kMatchedLr };
  Kind kind = Kind::kNone;
  std::string source;  // the method whose run's mean gain it reads
  double matched_lr_power = 1.0;
};

struct RunSettings {
  std::variant<SupervisedConfig, RlConfig, CognitiveConfig> learner;
  Schedule schedule;
  double gap_epsilon = 0.02;   // recovery band of the gap metrics
  std::size_t gap_window = 5;  // evaluations in the gap baseline and smoothing
  GainControl control;         // supervised runs only
};

// Parses a run's merged settings for the sweep's scenario (null: supervised; else the scenario's
// to_json() with kind rl or cognitive). Throws InvalidArgumentError naming the bad key or value.
RunSettings parse_run_settings(const nlohmann::json& scenario, const nlohmann::json& settings,
                               std::uint64_t seed);

// The method a supervised run takes its gain from (its fixed_gain_from or matched_lr_from), or
// empty. `settings_of(name)` gives method `name`'s merged settings at the same grid point, or
// nothing when the sweep has no such method. Throws InvalidArgumentError naming `method` when the
// two settings are both set, name no method of the sweep or a control, or the run has a gain of
// its own (ngm, fixed_gain).
std::string gain_source(
    const std::string& method, const nlohmann::json& settings,
    const std::function<std::optional<nlohmann::json>(const std::string&)>& settings_of);

// Whether `key` is a supervised run setting; throws InvalidArgumentError naming the key, `where`
// it is and the settings when it is not.
void check_setting_key(const std::string& key, const std::string& where);
// The settings a supervised run understands, with their defaults, as help text.
std::string run_settings_help();
// A supervised run's settings turned into the learner's configuration and the schedule.
SupervisedConfig supervised_config(const nlohmann::json& settings, std::uint64_t seed);
Schedule schedule_from_settings(const nlohmann::json& settings);

// The training iterations a run will take (iterations per task x its planned tasks): the unit in
// which the sweep's progress line estimates the time left.
std::int64_t planned_iterations(const RunSettings& run);

// A lower bound of the bytes a supervised run holds (its network's weights and batch buffers, the
// continual record), and the check that refuses a run whose estimate exceeds the available memory
// (InvalidArgumentError naming the run, the estimate and what is available). expand() runs it.
std::uint64_t supervised_memory_estimate(const SupervisedConfig& config, const Schedule& schedule);
void check_run_memory(const std::string& id, const SupervisedConfig& config,
                      const Schedule& schedule);

}  // namespace locus::bench
