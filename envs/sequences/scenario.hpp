#pragma once
// The three continual-learning scenarios (van de Ven, Tuytelaars & Tolias 2022), shared by the task
// sequences (envs/sequences/) and the supervised data streams (envs/data/).
//   task-incremental    the learner is told which task it is in (a task id, e.g. to pick a head)
//   domain-incremental  the task id is hidden and every task uses the same outputs
//   class-incremental   the task id is hidden and each task brings new classes (or actions): the
//                       output space is the union over the tasks

#include <string>
#include <string_view>

namespace locus::envs {

enum class Scenario { kTaskIncremental, kDomainIncremental, kClassIncremental };

// "task-incremental", "domain-incremental", "class-incremental".
std::string_view scenario_name(Scenario scenario);
// Accepts the names above and the short forms "task", "domain", "class"; throws
// InvalidArgumentError naming the value and the choices.
Scenario scenario_from_name(std::string_view name);
// Whether the learner may see the task id in this scenario.
inline bool reveals_task_id(Scenario scenario) {
  return scenario == Scenario::kTaskIncremental;
}

}  // namespace locus::envs
