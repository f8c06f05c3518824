#include "agents/train_flags.hpp"

#include <fmt/format.h>

#include "agents/errors.hpp"
#include "agents/run_config.hpp"

namespace locus::agents {

const std::vector<TrainFlag>& train_flags() {
  using enum FlagValue;
  static const std::vector<TrainFlag> flags = {
      {"--env", "env", kText, "Environment id (e.g. CartPole-v1, or my_module:MyEnv-v0)"},
      {"--agent", "agent", kText, "a2c, ppo or reinforce"},
      {"--modulation", "modulation", kText, "none, da or da+na"},
      {"--network", "network", kText, "modulated or trainable"},
      {"--policy", "policy", kText,
       "mlp (feed-forward), or rnn, gru or lstm: a recurrent first layer that carries memory "
       "across steps (trained through each rollout)"},
      {"--hidden", "hidden", kWholeList,
       "Layer widths, e.g. 128 or 64,64 (recurrent policies: the first is the recurrent layer)"},
      {"--device", "device", kText, "cpu or cuda (the network's backend)"},
      {"--precision", "precision", kText,
       "float32, bfloat16 (CPU with AVX512-BF16: fixed weights) or tf32 (cuda): the products' "
       "arithmetic (with --resume: from then on)"},
      {"--steps", "steps", kWhole, "Environment steps per agent"},
      {"--num-envs", "num_envs", kWhole, "Envs per agent"},
      {"--seed", "seed", kWhole, "Seed"},
      {"--kwargs", "env_kwargs", kJsonObject,
       "The environment's make() keyword arguments as a JSON object, e.g. "
       "'{\"trials_per_episode\": 1}'"},
      {"--out", "", kText, "Run directory to create"},
      {"--config", "", kText, "JSON or YAML file with the same keys (flags override it)"},
      {"--resume", "", kText,
       "Continue the run in this directory (only --steps, --threads and --precision may differ "
       "from the saved run; Ctrl-C stops a run resumably)"},
      {"--agents", "", kWhole, "Train N agents (seeds S..S+N-1) in parallel"},
      {"--seeds", "seeds", kWholeList, "Seeds of agents trained in parallel"},
      {"--threads", "threads", kWhole, "Worker threads (0: all cores)"},
      {"--eval-every", "eval_every", kWhole, "Updates between evaluations (0: end)"},
      {"--eval-episodes", "eval_episodes", kWhole, "Episodes per evaluation"},
      {"--checkpoint-every", "checkpoint_every", kWhole, "Updates between checkpoints"},
      {"--rollout-steps", "rollout_steps", kWhole, "Steps per env per update"},
      {"--frame-stack", "frame_stack", kWhole, "Observations stacked as network input (memory)"},
      {"--learning-rate", "learning_rate", kNumber, "Learning rate"},
      {"--contexts", "contexts", kText, "fixed, on_change or task_id"},
      {"--quiet", "", kSwitch, "No progress bar"},
  };
  return flags;
}

std::string_view to_string(FlagValue value) {
  switch (value) {
    case FlagValue::kText:
      return "text";
    case FlagValue::kWhole:
      return "whole";
    case FlagValue::kNumber:
      return "number";
    case FlagValue::kWholeList:
      return "whole_list";
    case FlagValue::kSwitch:
      return "switch";
    case FlagValue::kJsonObject:
      return "json_object";
  }
  return "text";
}

nlohmann::json given_train_settings(const std::string& config_file,
                                    const nlohmann::json& flag_values,
                                    std::optional<std::uint64_t> agents,
                                    std::uint64_t default_seed) {
  nlohmann::json settings = nlohmann::json::object();
  if (!config_file.empty()) settings = read_config_file(config_file);
  if (!settings.is_object()) {
    throw ConfigError(fmt::format("config file {} must hold a mapping of keys", config_file));
  }
  for (const auto& [key, value] : flag_values.items()) settings[key] = value;
  if (agents) {
    if (*agents == 0) throw ConfigError("--agents must be positive, got 0");
    if (*agents > RunConfig::kMaxSeeds) {
      throw ConfigError(
          fmt::format("--agents must be at most {}, got {}", RunConfig::kMaxSeeds, *agents));
    }
    // A seed read from YAML is a signed integer: count from it too (a bad seed is refused later,
    // with the rest of the config).
    const auto seed = settings.find("seed");
    const bool has_seed =
        seed != settings.end() && (seed->is_number_unsigned() ||
                                   (seed->is_number_integer() && seed->get<std::int64_t>() >= 0));
    const std::uint64_t first = has_seed ? seed->get<std::uint64_t>() : default_seed;
    std::vector<std::uint64_t> seeds;
    for (std::uint64_t i = 0; i < *agents; ++i) seeds.push_back(first + i);
    settings["seeds"] = seeds;
  }
  return settings;
}

}  // namespace locus::agents
