#pragma once
// The task list of a sweep scenario (kind rl or cognitive): registered env ids, each with the
// kwargs make() gets, written in a config as "Id-vN" or {id: Id-vN, kwargs: {...}}.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace locus::bench {

struct ScenarioTask {
  std::string id;
  nlohmann::json kwargs = nlohmann::json::object();
};

// Reads a non-empty list of "Id-vN" or {id, kwargs}; throws InvalidArgumentError naming
// `scenario` (e.g. "RL scenario") and the bad item.
std::vector<ScenarioTask> task_list_from_json(const nlohmann::json& value,
                                              std::string_view scenario);
nlohmann::json task_list_to_json(const std::vector<ScenarioTask>& tasks);

}  // namespace locus::bench
