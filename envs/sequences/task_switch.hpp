#pragma once
// TaskSwitchEnv: the tasks of a continual sequence held in one env, which shows the task its owner
// selects (set_task), not one a schedule picks (that is TaskSequence, task_sequence.hpp). A learner
// that decides when the task changes (bench's RlLearner: one block of updates per task) trains on
// it, and an evaluator makes one showing a single task.
//
// Every task is made through the registry, with its own time limit, info and random stream.
// Observations (a 1-D float32 Box in every task) are padded with zeros to the largest task's size
// and optionally end with a one-hot task id (task_input); the observation space's bounds are the
// union over the tasks (0 where a task lacks a dimension). Every task must have the same action
// space. set_task(k) takes effect at the next reset(); each task keeps its own generator, seeded
// by the first reset that shows it with a seed (as any Gymnasium env, a reset without one draws
// fresh entropy), and continues it after that.
//
// Registered as TaskSwitch-v0. kwargs (all optional):
//   "tasks":      a non-empty list of {"id": ..., "kwargs": {...}}; default the CartPole
//                 domain-shift family CartPole-v1, CartPoleLongPole-v1, CartPoleHeavyPole-v1,
//                 CartPoleLowGravity-v1
//   "task":       the task shown from the first reset on (default 0)
//   "task_input": append a one-hot task id to the observation (default false)
// The whole state (every task's env, its last observation, which task is shown and which is
// selected next) saves and restores, so a resumed run continues its episodes.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "envs/env.hpp"

namespace locus::envs {

inline constexpr const char* kTaskSwitchId = "TaskSwitch-v0";

class TaskSwitchEnv final : public Env {
 public:
  // Throws InvalidArgumentError naming the kwarg or the task whose spaces do not fit.
  explicit TaskSwitchEnv(const Kwargs& kwargs = Kwargs::object());

  std::string name() const override { return "TaskSwitchEnv"; }
  // When every task supports state.
  bool supports_state() const override;

  // The task shown from the next reset() on; throws InvalidArgumentError when out of range.
  void set_task(std::int64_t task);
  std::int64_t num_tasks() const { return static_cast<std::int64_t>(tasks_.size()); }

 protected:
  nlohmann::json save_state_impl() const override;
  void restore_state_impl(const nlohmann::json& fields) override;
  void reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                  std::span<std::byte> observation, Info& info) override;
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;

 private:
  struct Task {
    std::string id;
    std::unique_ptr<Env> env;
    std::vector<std::byte> observation;  // its own packed float32 observation
  };

  void add_task(const std::string& id, const Kwargs& kwargs);
  void set_spaces();
  void write_observation(std::span<std::byte> observation) const;

  std::vector<Task> tasks_;
  std::size_t width_ = 0;  // the largest task's observation size
  bool task_input_ = false;
  std::int64_t active_ = 0;
  std::int64_t pending_ = 0;
};

}  // namespace locus::envs
