#include "envs/sequences/scenario.hpp"

#include "envs/errors.hpp"

namespace locus::envs {

std::string_view scenario_name(Scenario scenario) {
  switch (scenario) {
    case Scenario::kTaskIncremental:
      return "task-incremental";
    case Scenario::kDomainIncremental:
      return "domain-incremental";
    case Scenario::kClassIncremental:
      return "class-incremental";
  }
  throw InvalidArgumentError("invalid Scenario value " +
                             std::to_string(static_cast<int>(scenario)));
}

Scenario scenario_from_name(std::string_view name) {
  if (name == "task-incremental" || name == "task") return Scenario::kTaskIncremental;
  if (name == "domain-incremental" || name == "domain") return Scenario::kDomainIncremental;
  if (name == "class-incremental" || name == "class") return Scenario::kClassIncremental;
  throw InvalidArgumentError("unknown continual-learning scenario '" + std::string(name) +
                             "' (accepted: task-incremental, domain-incremental, "
                             "class-incremental, or task, domain, class)");
}

}  // namespace locus::envs
