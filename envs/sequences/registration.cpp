// Registration of the task sequences: TaskSequence-v0 (a schedule picks the task) and
// TaskSwitch-v0 (its owner picks the task).
#include "envs/builtin_envs.hpp"
#include "envs/registry.hpp"
#include "envs/sequences/task_sequence.hpp"
#include "envs/sequences/task_switch.hpp"

namespace locus::envs {

void register_sequence_envs(Registry& registry) {
  registry.register_env(
      {.id = "TaskSequence-v0",
       .entry_point = env_factory<TaskSequence>(),
       .description = "Registered tasks in sequence with NeuroGym's schedules and a continual-"
                      "learning scenario; default: the CartPole domain-shift family"});
  registry.register_env(
      {.id = kTaskSwitchId,
       .entry_point = env_factory<TaskSwitchEnv>(),
       .description = "Registered tasks of a continual sequence, one shown at a time, switched by "
                      "the learner; default: the CartPole domain-shift family"});
}

}  // namespace locus::envs
