#pragma once
// The flags of `locus train`, declared once: the C++ command line (cli/train_commands.cpp) and the
// Python one that trains Python envs (python/locus/cli.py, through locus._core.train_flags()) both
// build their options from this table, so that they cannot drift apart.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace locus::agents {

enum class FlagValue {
  kText,        // a string
  kWhole,       // a whole number >= 0
  kNumber,      // a real number
  kWholeList,   // comma-separated whole numbers: 64,64
  kSwitch,      // present or not
  kJsonObject,  // a JSON object: {"trials_per_episode": 1}
};

struct TrainFlag {
  std::string_view name;  // "--num-envs"
  // The run-config key the flag sets (RunConfig / AgentConfig), or empty for a flag the command
  // itself handles (--out, --config, --resume, --agents, --quiet).
  std::string_view key;
  FlagValue value;
  std::string_view help;
};

const std::vector<TrainFlag>& train_flags();

std::string_view to_string(FlagValue value);

// The settings a `locus train` command line gives, as flat run-config keys: the keys of the
// --config file (`config_file`, empty for none; it must hold a mapping), overridden by the flags
// given (`flag_values`: run-config key -> value). --agents N (`agents`) sets `seeds` to N
// consecutive seeds from the given `seed`, else from `default_seed`. Throws ConfigError.
nlohmann::json given_train_settings(const std::string& config_file,
                                    const nlohmann::json& flag_values,
                                    std::optional<std::uint64_t> agents,
                                    std::uint64_t default_seed);

}  // namespace locus::agents
