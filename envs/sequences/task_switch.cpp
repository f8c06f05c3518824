#include "envs/sequences/task_switch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "envs/errors.hpp"
#include "envs/registry.hpp"
#include "envs/space.hpp"
#include "envs/state_json.hpp"

namespace locus::envs {

namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& why) {
  throw InvalidArgumentError(fmt::format("{}: {}", kTaskSwitchId, why));
}

json default_tasks() {
  json tasks = json::array();
  for (const char* id :
       {"CartPole-v1", "CartPoleLongPole-v1", "CartPoleHeavyPole-v1", "CartPoleLowGravity-v1"}) {
    tasks.push_back({{"id", id}, {"kwargs", json::object()}});
  }
  return tasks;
}

}  // namespace

TaskSwitchEnv::TaskSwitchEnv(const Kwargs& kwargs) {
  if (!kwargs.is_object()) fail("kwargs must be a JSON object, got " + kwargs.dump());
  for (const auto& [key, value] : kwargs.items()) {
    if (key != "tasks" && key != "task" && key != "task_input") {
      fail(fmt::format("unknown kwarg '{}'; kwargs: tasks, task, task_input", key));
    }
  }
  const json tasks = kwargs.contains("tasks") ? kwargs["tasks"] : default_tasks();
  if (!tasks.is_array() || tasks.empty()) {
    fail("kwarg 'tasks' must be a non-empty list of {id, kwargs}");
  }
  task_input_ = kwargs.value("task_input", false);
  for (const auto& task : tasks) {
    add_task(task.at("id").get<std::string>(), task.value("kwargs", json::object()));
  }
  set_spaces();
  set_task(kwargs.value("task", std::int64_t{0}));
}

void TaskSwitchEnv::add_task(const std::string& id, const Kwargs& kwargs) {
  Task entry;
  entry.env = make(id, kwargs);
  const auto* box = dynamic_cast<const Box*>(&entry.env->observation_space());
  if (box == nullptr || box->dtype() != DType::kFloat32 || box->shape().size() != 1) {
    fail(fmt::format("task {} has observation space {}; RL sequences need a 1-D float32 Box", id,
                     entry.env->observation_space().to_string()));
  }
  if (!tasks_.empty() && !entry.env->action_space().equals(tasks_[0].env->action_space())) {
    fail(
        fmt::format("task {} has action space {} but task {} has {}; every task of an RL "
                    "sequence needs the same action space",
                    id, entry.env->action_space().to_string(), tasks_[0].id,
                    tasks_[0].env->action_space().to_string()));
  }
  entry.id = id;
  entry.observation.resize(entry.env->observation_space().packed_bytes());
  width_ = std::max(width_, box->low().size());
  tasks_.push_back(std::move(entry));
}

void TaskSwitchEnv::set_spaces() {
  const std::size_t total = width_ + (task_input_ ? tasks_.size() : 0);
  // Bounds: the union over tasks; a dimension that a task lacks is 0 there (padding).
  std::vector<double> low(total, 0.0), high(total, 0.0);
  for (std::size_t d = 0; d < width_; ++d) {
    bool first = true;
    for (const Task& task : tasks_) {
      const auto& box = static_cast<const Box&>(task.env->observation_space());
      const double lo = d < box.low().size() ? box.low()[d] : 0.0;
      const double hi = d < box.high().size() ? box.high()[d] : 0.0;
      low[d] = first ? lo : std::min(low[d], lo);
      high[d] = first ? hi : std::max(high[d], hi);
      first = false;
    }
  }
  for (std::size_t d = width_; d < total; ++d) high[d] = 1.0;
  set_observation_space(std::make_shared<Box>(low, high, Shape{static_cast<std::int64_t>(total)}));
  set_action_space(tasks_[0].env->action_space().clone());
}

void TaskSwitchEnv::set_task(std::int64_t task) {
  if (task < 0 || task >= num_tasks()) {
    throw InvalidArgumentError(
        fmt::format("{}: task {} is out of range 0..{}", kTaskSwitchId, task, tasks_.size() - 1));
  }
  pending_ = task;
}

bool TaskSwitchEnv::supports_state() const {
  return std::all_of(tasks_.begin(), tasks_.end(),
                     [](const Task& task) { return task.env->supports_state(); });
}

json TaskSwitchEnv::save_state_impl() const {
  json tasks = json::array();
  for (const Task& task : tasks_) {
    tasks.push_back({{"env", task.env->save_state()},
                     {"observation", state_json::from_bytes(task.observation)}});
  }
  return {{"tasks", tasks}, {"active", active_}, {"pending", pending_}};
}

void TaskSwitchEnv::restore_state_impl(const json& fields) {
  const StateReader reader(fields, name(), "fields");
  const auto last = num_tasks() - 1;
  const std::int64_t active = reader.get_int("active", 0, last);
  const std::int64_t pending = reader.get_int("pending", 0, last);
  const json& saved = reader.at("tasks");
  if (!saved.is_array() || saved.size() != tasks_.size()) {
    reader.fail("tasks", fmt::format("must hold {} task states, one per task", tasks_.size()));
  }
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    const StateReader task(saved[i], name(), fmt::format("fields.tasks[{}]", i));
    tasks_[i].observation = task.get_bytes("observation", tasks_[i].observation.size());
    // Checks its own state; Env::restore_state rolls everything back if one is refused.
    tasks_[i].env->restore_state(task.at("env"));
  }
  active_ = active;
  pending_ = pending;
}

void TaskSwitchEnv::reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                               std::span<std::byte> observation, Info& info) {
  active_ = pending_;
  Task& task = tasks_[static_cast<std::size_t>(active_)];
  task.env->reset(task.observation, info, seed, options);
  write_observation(observation);
}

StepOutcome TaskSwitchEnv::step_impl(std::span<const std::byte> action,
                                     std::span<std::byte> observation, Info& info) {
  Task& task = tasks_[static_cast<std::size_t>(active_)];
  const StepOutcome outcome = task.env->step(action, task.observation, info);
  write_observation(observation);
  return outcome;
}

void TaskSwitchEnv::write_observation(std::span<std::byte> observation) const {
  const Task& task = tasks_[static_cast<std::size_t>(active_)];
  std::fill(observation.begin(), observation.end(), std::byte{0});
  std::memcpy(observation.data(), task.observation.data(), task.observation.size());
  if (task_input_) {
    const float one = 1.0f;
    std::memcpy(observation.data() + (width_ + static_cast<std::size_t>(active_)) * sizeof(float),
                &one, sizeof(float));
  }
}

}  // namespace locus::envs
