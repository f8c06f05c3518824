#include "bench/harness/task_list.hpp"

#include <fmt/format.h>

#include "bench/harness/errors.hpp"

namespace locus::bench {

std::vector<ScenarioTask> task_list_from_json(const nlohmann::json& value,
                                              std::string_view scenario) {
  if (!value.is_array() || value.empty()) {
    throw InvalidArgumentError(
        fmt::format("{} 'tasks' must be a non-empty list of env ids or {{id, kwargs}}, got {}",
                    scenario, value.dump()));
  }
  std::vector<ScenarioTask> tasks;
  for (const auto& item : value) {
    ScenarioTask task;
    if (item.is_string()) {
      task.id = item.get<std::string>();
    } else if (item.is_object() && item.contains("id") && item["id"].is_string()) {
      task.id = item["id"].get<std::string>();
      for (const auto& [k, v] : item.items()) {
        if (k == "kwargs") {
          task.kwargs = v;
        } else if (k != "id") {
          throw InvalidArgumentError(
              fmt::format("{} task {}: unknown key '{}'; keys: id, kwargs", scenario, task.id, k));
        }
      }
    } else {
      throw InvalidArgumentError(fmt::format("{} task must be an env id or {{id, kwargs}}, got {}",
                                             scenario, item.dump()));
    }
    if (task.id.empty())
      throw InvalidArgumentError(fmt::format("{} task with an empty id", scenario));
    if (!task.kwargs.is_object()) {
      throw InvalidArgumentError(fmt::format("{} task {}: kwargs must be a mapping, got {}",
                                             scenario, task.id, task.kwargs.dump()));
    }
    tasks.push_back(std::move(task));
  }
  return tasks;
}

nlohmann::json task_list_to_json(const std::vector<ScenarioTask>& tasks) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& t : tasks) list.push_back({{"id", t.id}, {"kwargs", t.kwargs}});
  return list;
}

}  // namespace locus::bench
