#pragma once
// Shared by the trajectory dump programs the oracle scripts run (classic_control_dump,
// cognitive_dump): their command line, ENV_ID SEED then "--flag JSON" pairs, and the float32
// observation buffer as the JSON array they print.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace locus::envs::testing {

struct DumpCommand {
  std::string env_id;
  std::uint64_t seed = 0;
  std::map<std::string, nlohmann::json> flags;  // flag name (with its dashes) -> parsed value

  nlohmann::json flag_or(const std::string& name, const nlohmann::json& fallback) const {
    const auto found = flags.find(name);
    return found == flags.end() ? fallback : found->second;
  }
};

// Nothing when the command line does not have that form (the caller prints its usage); a flag's
// value that is not JSON throws nlohmann::json's parse error.
inline std::optional<DumpCommand> parse_dump_command(int argc, char** argv,
                                                     const std::vector<std::string>& accepted) {
  if (argc < 3 || (argc - 3) % 2 != 0) return std::nullopt;
  DumpCommand command{argv[1], 0, {}};
  try {
    command.seed = std::stoull(argv[2]);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (std::find(accepted.begin(), accepted.end(), flag) == accepted.end()) return std::nullopt;
    command.flags[flag] = nlohmann::json::parse(argv[i + 1]);
  }
  return command;
}

// Observations are printed as the float32 values converted to double.
inline nlohmann::json float32_values_json(const std::vector<std::byte>& buffer) {
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i + sizeof(float) <= buffer.size(); i += sizeof(float)) {
    float value = 0;
    std::memcpy(&value, buffer.data() + i, sizeof value);
    out.push_back(static_cast<double>(value));
  }
  return out;
}

}  // namespace locus::envs::testing
