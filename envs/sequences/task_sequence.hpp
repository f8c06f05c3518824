#pragma once
// TaskSequence: one environment that runs several tasks one after another, the way a continual
// learner meets them. It composes registered tasks (or configured variants of one task) with
// NeuroGym's schedules (neurogym.utils.scheduler, used by neurogym.wrappers.ScheduleEnvs) or an
// explicit schedule, and enforces the continual-learning scenario (envs/sequences/scenario.hpp).
//
// Switching. A task switches only at the end of a trial: a step whose info holds "new_trial" =
// true (NeuroGym's convention, which the image bandits follow) or "trial_ended" = true (the
// cognitive tasks of envs/cognitive/), or the end of the task's episode (so for CartPole a trial
// is an episode). A switch at a trial end inside an
// episode is seamless: the step's reward, flags and info are the old task's, and the observation
// returned is the new task's first (the new task is reset the first time it is shown and after
// its own episode ended; otherwise it resumes where it was left, as ScheduleEnvs does). A switch
// at an episode end shows the new task at the next reset().
//
// Schedules (`unit` says what a block length counts: "trial" (default), "episode" or "step"; a
// block measured in steps ends at the first trial end once its steps are done):
//   sequential        tasks 0, 1, ..., n-1, 0, ... one unit each
//   random            one unit each; the next task uniform among the other tasks
//   sequential_block  task i for block_lengths[i] units, in order, cycling
//   random_block      blocks of block_lengths[i] units; the next task uniform among the others
//   explicit          a list of blocks {"task": i, "trials"|"episodes"|"steps": n}; after the last
//                     block it starts over ("repeat": true, default) or stays in the last task
// Differences from NeuroGym, on purpose: sequential starts with task 0 (NeuroGym's first call
// already moves to task 1), and the random schedules draw the first task uniformly from all tasks
// (NeuroGym starts from task 0, or never picks it first); all draws come from this env's
// np_random(), so reset(seed) makes the whole sequence reproducible.
//
// Scenario:
//   task-incremental    info carries "task_id"; `task_input` appends a one-hot task id to the
//                       observation (NeuroGym's env_input; needs a 1-D float Box observation)
//   domain-incremental  no task id anywhere; every task must have the same action space
//   class-incremental   no task id anywhere; the action space is the union of the tasks' Discrete
//                       action spaces
// In task- and class-incremental sequences the action space is the union (Discrete spaces may
// differ in size); an action outside the current task's actions is replaced by that task's first
// action (NeuroGym's fixation) and `out_of_task_reward` is added to the reward, with info
// "action_outside_task" = true. Non-Discrete action spaces must be equal in every scenario.
// Observation spaces must have the same shape and dtype (a Box's bounds become the union).
//
// info, besides the current task's own entries: "task_boundary" (bool: this observation is the
// first of a task different from the previous observation's, and at the first reset after
// seeding), "block" (the index of the schedule block, counting from 0 at reset(seed)), "task_id"
// (task-incremental only), "reset_info" (nested: the new task's reset info when a mid-episode
// switch reset it). current_task() tells an evaluator the task in every scenario; an agent that
// reads it in a domain- or class-incremental sequence is no longer in that scenario.
//
// Seeding: reset(seed) seeds np_random(), draws one seed per task from it (integers(2^31 - 1), as
// Gymnasium's composite spaces seed their children), restarts the schedule, and each task is
// reset with its seed the first time it is shown; later resets of a task continue its generator.
//
// Registered as TaskSequence-v0. kwargs (all optional):
//   "tasks":    a list of "Id-vN" or {"id": ..., "kwargs": {...}}, or one task with variants:
//               {"id": ..., "kwargs": {...}, "variants": [{...}, {...}]} (each variant's kwargs
//               are merged over "kwargs"); default the CartPole domain-shift family
//               CartPole-v1, CartPoleLongPole-v1, CartPoleHeavyPole-v1, CartPoleLowGravity-v1
//   "schedule": a name ("sequential", "random", ..., NeuroGym's "SequentialBlock" spelling too)
//               or {"type": name, "unit": "trial", "block_lengths": [..] or one number,
//               "blocks": [...], "repeat": true}; default "sequential"
//   "scenario": "task-incremental" (default), "domain-incremental", "class-incremental"
//   "task_input": false, "out_of_task_reward": 0.0
// An evaluator that wants task k alone, with the sequence's observation and action spaces, makes
// the same kwargs with "schedule": {"type": "explicit", "blocks": [{"task": k, "episodes": 1}]}.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "envs/env.hpp"
#include "envs/sequences/scenario.hpp"

namespace locus::envs {

// One task of a sequence: a registered id and its make() kwargs.
struct TaskSpec {
  std::string id;
  Kwargs kwargs = Kwargs::object();
  std::string to_string() const;  // "CartPole-v1" or "CartPole-v1 {\"length\":1.0}"
};

enum class ScheduleKind { kSequential, kRandom, kSequentialBlock, kRandomBlock, kExplicit };
enum class ScheduleUnit { kStep, kTrial, kEpisode };
std::string_view schedule_kind_name(ScheduleKind kind);  // "sequential", ..., "explicit"
ScheduleKind schedule_kind_from_name(std::string_view name);
std::string_view schedule_unit_name(ScheduleUnit unit);  // "step", "trial", "episode"
ScheduleUnit schedule_unit_from_name(std::string_view name);

struct ScheduleBlock {
  std::int64_t task = 0;
  std::int64_t length = 1;
  ScheduleUnit unit = ScheduleUnit::kTrial;
};

struct Schedule {
  ScheduleKind kind = ScheduleKind::kSequential;
  ScheduleUnit unit = ScheduleUnit::kTrial;  // of block_lengths, and of sequential/random's 1
  std::vector<std::int64_t> block_lengths;   // the block schedules: one per task
  std::vector<ScheduleBlock> blocks;         // explicit
  bool repeat = true;                        // explicit: start over after the last block
};

struct TaskSequenceConfig {
  std::vector<TaskSpec> tasks;
  Schedule schedule;
  Scenario scenario = Scenario::kTaskIncremental;
  bool task_input = false;
  double out_of_task_reward = 0.0;
};

// Parses the kwargs described in the file comment; throws InvalidArgumentError naming the bad
// value and what is allowed.
TaskSequenceConfig task_sequence_config_from_kwargs(const Kwargs& kwargs);

class TaskSequence final : public Env {
 public:
  // Makes every task (through the registry, with its time limit) and checks that their spaces fit
  // together and the schedule fits the tasks; throws InvalidArgumentError naming the task and the
  // space or value that does not fit.
  explicit TaskSequence(TaskSequenceConfig config);
  explicit TaskSequence(const Kwargs& kwargs = Kwargs::object());

  std::string name() const override { return "TaskSequence"; }
  // When every task supports state.
  bool supports_state() const override;
  std::string render() override;
  void close() override;

  const TaskSequenceConfig& config() const { return config_; }
  std::int64_t num_tasks() const { return static_cast<std::int64_t>(tasks_.size()); }
  // The task whose observation was returned last (for evaluators; see the file comment).
  std::int64_t current_task() const { return shown_task_ >= 0 ? shown_task_ : current_; }
  // The index of the schedule block now running, counting from 0 at reset(seed).
  std::int64_t block_index() const { return block_index_; }
  Env& task_env(std::int64_t task);

 protected:
  nlohmann::json save_state_impl() const override;
  void restore_state_impl(const nlohmann::json& fields) override;
  void reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                  std::span<std::byte> observation, Info& info) override;
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;

 private:
  struct Task {
    std::unique_ptr<Env> env;
    std::vector<std::byte> observation;  // its latest observation, in its own packed layout
    std::optional<std::uint64_t> seed;   // for its first reset after the sequence was seeded
    bool needs_reset = true;             // never reset since seeding, or its episode ended
    std::int64_t action_start = 0;       // Discrete action spaces: its actions
    std::int64_t action_count = 0;
  };

  void build_spaces();
  void restart_schedule();
  // Whether the current block is complete after a trial end.
  bool block_complete() const;
  void advance_schedule();
  std::int64_t draw_other_task(std::int64_t than);
  void start_task(std::int64_t task, Info& info, const Kwargs& options);
  // Writes `task`'s latest observation (and the one-hot task input) and the sequence's info.
  void write_observation(std::int64_t task, std::span<std::byte> observation, Info& info);

  TaskSequenceConfig config_;
  std::vector<Task> tasks_;
  bool discrete_actions_ = false;  // actions are translated per task
  std::int64_t task_observation_bytes_ = 0;
  bool started_ = false;
  std::int64_t current_ = 0;
  std::int64_t shown_task_ = -1;  // the task of the last observation returned, -1 after seeding
  std::int64_t block_index_ = 0;
  std::int64_t explicit_position_ = 0;
  bool schedule_finished_ = false;  // an explicit schedule without repeat reached its last block
  std::int64_t steps_in_block_ = 0;
  std::int64_t trials_in_block_ = 0;
  std::int64_t episodes_in_block_ = 0;
  std::vector<std::byte> substitute_action_;
};

}  // namespace locus::envs
