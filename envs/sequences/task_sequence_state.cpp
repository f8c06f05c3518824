// save_state/restore_state of TaskSequence: the schedule's position, and each task's env, latest
// observation, pending seed and whether it needs a reset.

#include <algorithm>
#include <nlohmann/json.hpp>

#include "envs/sequences/task_sequence.hpp"
#include "envs/state_json.hpp"

namespace locus::envs {

bool TaskSequence::supports_state() const {
  return std::all_of(tasks_.begin(), tasks_.end(),
                     [](const Task& task) { return task.env->supports_state(); });
}

nlohmann::json TaskSequence::save_state_impl() const {
  nlohmann::json tasks = nlohmann::json::array();
  for (const Task& task : tasks_) {
    tasks.push_back({{"env", task.env->save_state()},
                     {"observation", state_json::from_bytes(task.observation)},
                     {"seed", task.seed ? nlohmann::json(*task.seed) : nlohmann::json()},
                     {"needs_reset", task.needs_reset}});
  }
  return {{"tasks", tasks},
          {"started", started_},
          {"current", current_},
          {"shown_task", shown_task_},
          {"block_index", block_index_},
          {"explicit_position", explicit_position_},
          {"schedule_finished", schedule_finished_},
          {"steps_in_block", steps_in_block_},
          {"trials_in_block", trials_in_block_},
          {"episodes_in_block", episodes_in_block_}};
}

void TaskSequence::restore_state_impl(const nlohmann::json& fields) {
  const StateReader reader(fields, name(), "fields");
  const std::int64_t last_task = num_tasks() - 1;
  const bool started = reader.get_bool("started");
  const std::int64_t current = reader.get_int("current", 0, last_task);
  const std::int64_t shown_task = reader.get_int("shown_task", -1, last_task);
  const std::int64_t block_index = reader.get_int("block_index", 0);
  const auto blocks = static_cast<std::int64_t>(config_.schedule.blocks.size());
  const std::int64_t explicit_position =
      reader.get_int("explicit_position", 0, std::max<std::int64_t>(blocks - 1, 0));
  const bool schedule_finished = reader.get_bool("schedule_finished");
  const std::int64_t steps = reader.get_int("steps_in_block", 0);
  const std::int64_t trials = reader.get_int("trials_in_block", 0);
  const std::int64_t episodes = reader.get_int("episodes_in_block", 0);
  const nlohmann::json& saved_tasks = reader.at("tasks");
  if (!saved_tasks.is_array() || saved_tasks.size() != tasks_.size()) {
    reader.fail("tasks", "must be an array of " + std::to_string(tasks_.size()) +
                             " task states, one per task of the sequence");
  }
  struct Pending {
    std::vector<std::byte> observation;
    std::optional<std::uint64_t> seed;
    bool needs_reset;
  };
  std::vector<Pending> pending;
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    const StateReader task(saved_tasks[i], name(), "fields.tasks[" + std::to_string(i) + "]");
    Pending p;
    p.observation = task.get_bytes("observation", tasks_[i].observation.size());
    if (!task.at("seed").is_null()) p.seed = task.get_uint64("seed");
    p.needs_reset = task.get_bool("needs_reset");
    (void)task.at("env");
    pending.push_back(std::move(p));
  }
  // Each task's env checks its own state (and restores it, or throws); Env::restore_state rolls
  // the tasks restored before a refusal back.
  for (std::size_t i = 0; i < tasks_.size(); ++i)
    tasks_[i].env->restore_state(saved_tasks[i].at("env"));
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    tasks_[i].observation = std::move(pending[i].observation);
    tasks_[i].seed = pending[i].seed;
    tasks_[i].needs_reset = pending[i].needs_reset;
  }
  started_ = started;
  current_ = current;
  shown_task_ = shown_task;
  block_index_ = block_index;
  explicit_position_ = explicit_position;
  schedule_finished_ = schedule_finished;
  steps_in_block_ = steps;
  trials_in_block_ = trials;
  episodes_in_block_ = episodes;
}

}  // namespace locus::envs
