#pragma once
// The flags of `locus train`, declared once: the C++ command line (cli/train_commands.cpp) and the
// Python one that trains Python envs (python/locus/cli.py, through locus._core.train_flags()) both
// build their options from this table, so that they cannot drift apart.

#include <string_view>
#include <vector>

namespace locus::agents {

enum class FlagValue {
  kText,       // a string
  kWhole,      // a whole number >= 0
  kNumber,     // a real number
  kWholeList,  // comma-separated whole numbers: 64,64
  kSwitch,     // present or not
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

}  // namespace locus::agents
