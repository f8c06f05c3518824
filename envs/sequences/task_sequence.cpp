#include "envs/sequences/task_sequence.hpp"

#include <algorithm>
#include <cstring>
#include <variant>

#include "envs/registry.hpp"

namespace locus::envs {

namespace {

constexpr const char* kContext = "TaskSequence";

[[noreturn]] void invalid(const std::string& what) {
  throw InvalidArgumentError(std::string(kContext) + ": " + what);
}

bool flag_set(const Info& info, std::string_view key) {
  const InfoValue* value = info.find(key);
  if (value == nullptr) return false;
  if (const auto* flag = std::get_if<bool>(value)) return *flag;
  if (const auto* number = std::get_if<std::int64_t>(value)) return *number != 0;
  return false;
}

// NeuroGym's trial-end flag "new_trial", or "trial_ended" (the name locus's cognitive tasks in
// envs/cognitive/ also use); integers are accepted for tasks that report it as 0/1.
bool reports_new_trial(const Info& info) {
  return flag_set(info, "new_trial") || flag_set(info, "trial_ended");
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

void reject_unknown_keys(const Kwargs& object, const std::vector<std::string>& accepted,
                         const std::string& where) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(accepted.begin(), accepted.end(), key) == accepted.end()) {
      invalid("unknown " + where + " key '" + key + "' (accepted: " + join(accepted) + ")");
    }
  }
}

std::int64_t positive_integer(const Kwargs& value, const std::string& what) {
  if (value.is_number_integer() && value.get<std::int64_t>() > 0) return value.get<std::int64_t>();
  invalid(what + " must be a positive integer, got " + value.dump());
}

TaskSpec parse_task(const Kwargs& item, std::size_t position) {
  const std::string where = "tasks[" + std::to_string(position) + "]";
  if (item.is_string()) return {item.get<std::string>(), Kwargs::object()};
  if (!item.is_object() || !item.contains("id") || !item["id"].is_string()) {
    invalid(where + " must be an environment id or {\"id\": ..., \"kwargs\": {...}}, got " +
            item.dump());
  }
  reject_unknown_keys(item, {"id", "kwargs"}, where);
  TaskSpec spec{item["id"].get<std::string>(), Kwargs::object()};
  if (item.contains("kwargs") && !item["kwargs"].is_null()) {
    if (!item["kwargs"].is_object()) {
      invalid(where + ".kwargs must be a JSON object, got " + item["kwargs"].dump());
    }
    spec.kwargs = item["kwargs"];
  }
  return spec;
}

std::vector<TaskSpec> parse_tasks(const Kwargs& value) {
  std::vector<TaskSpec> tasks;
  if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) tasks.push_back(parse_task(value[i], i));
    return tasks;
  }
  if (value.is_object() && value.contains("variants")) {
    reject_unknown_keys(value, {"id", "kwargs", "variants"}, "tasks");
    Kwargs base = value;
    base.erase("variants");
    const TaskSpec common = parse_task(base, 0);
    const Kwargs& variants = value["variants"];
    if (!variants.is_array() || variants.empty()) {
      invalid("tasks.variants must be a non-empty list of kwargs objects, got " + variants.dump());
    }
    for (std::size_t i = 0; i < variants.size(); ++i) {
      if (!variants[i].is_object()) {
        invalid("tasks.variants[" + std::to_string(i) + "] must be a kwargs object, got " +
                variants[i].dump());
      }
      TaskSpec spec = common;
      spec.kwargs.update(variants[i]);
      tasks.push_back(std::move(spec));
    }
    return tasks;
  }
  invalid(
      "'tasks' must be a list of environment ids or {\"id\", \"kwargs\"} objects, or one "
      "{\"id\", \"kwargs\", \"variants\": [...]} object, got " +
      value.dump());
}

Schedule parse_schedule(const Kwargs& value, std::size_t num_tasks) {
  Schedule schedule;
  if (value.is_string()) {
    schedule.kind = schedule_kind_from_name(value.get<std::string>());
    return schedule;
  }
  if (!value.is_object() || !value.contains("type") || !value["type"].is_string()) {
    invalid("'schedule' must be a schedule name or {\"type\": name, ...}, got " + value.dump());
  }
  reject_unknown_keys(value, {"type", "unit", "block_lengths", "blocks", "repeat"}, "schedule");
  schedule.kind = schedule_kind_from_name(value["type"].get<std::string>());
  if (value.contains("unit")) {
    if (!value["unit"].is_string()) invalid("schedule.unit must be a string");
    schedule.unit = schedule_unit_from_name(value["unit"].get<std::string>());
  }
  if (value.contains("block_lengths")) {
    const Kwargs& lengths = value["block_lengths"];
    if (lengths.is_array()) {
      for (std::size_t i = 0; i < lengths.size(); ++i) {
        schedule.block_lengths.push_back(
            positive_integer(lengths[i], "schedule.block_lengths[" + std::to_string(i) + "]"));
      }
    } else {
      // One number: the same length for every task.
      schedule.block_lengths.assign(num_tasks, positive_integer(lengths, "schedule.block_lengths"));
    }
  }
  if (value.contains("blocks")) {
    const Kwargs& blocks = value["blocks"];
    if (!blocks.is_array()) invalid("schedule.blocks must be a list, got " + blocks.dump());
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      const std::string where = "schedule.blocks[" + std::to_string(i) + "]";
      const Kwargs& block = blocks[i];
      if (!block.is_object() || !block.contains("task") || !block["task"].is_number_integer()) {
        invalid(where + " must be {\"task\": i, \"trials\"|\"episodes\"|\"steps\": n}, got " +
                block.dump());
      }
      reject_unknown_keys(block, {"task", "trials", "episodes", "steps"}, where);
      ScheduleBlock parsed;
      parsed.task = block["task"].get<std::int64_t>();
      int units = 0;
      for (const auto& [key, unit] : {std::pair{"trials", ScheduleUnit::kTrial},
                                      std::pair{"episodes", ScheduleUnit::kEpisode},
                                      std::pair{"steps", ScheduleUnit::kStep}}) {
        if (block.contains(key)) {
          ++units;
          parsed.unit = unit;
          parsed.length = positive_integer(block[key], where + "." + key);
        }
      }
      if (units != 1) {
        invalid(where + " must give exactly one of trials, episodes, steps, got " + block.dump());
      }
      schedule.blocks.push_back(parsed);
    }
  }
  if (value.contains("repeat")) {
    if (!value["repeat"].is_boolean()) invalid("schedule.repeat must be true or false");
    schedule.repeat = value["repeat"].get<bool>();
  }
  return schedule;
}

std::string describe_task(const TaskSequenceConfig& config, std::size_t i) {
  return "task " + std::to_string(i) + " (" + config.tasks[i].to_string() + ")";
}

}  // namespace

std::string TaskSpec::to_string() const {
  if (kwargs.is_null() || kwargs.empty()) return id;
  return id + " " + kwargs.dump();
}

std::string_view schedule_kind_name(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::kSequential:
      return "sequential";
    case ScheduleKind::kRandom:
      return "random";
    case ScheduleKind::kSequentialBlock:
      return "sequential_block";
    case ScheduleKind::kRandomBlock:
      return "random_block";
    case ScheduleKind::kExplicit:
      return "explicit";
  }
  throw InvalidArgumentError("invalid ScheduleKind value " +
                             std::to_string(static_cast<int>(kind)));
}

ScheduleKind schedule_kind_from_name(std::string_view name) {
  // NeuroGym's class names (SequentialSchedule, SequentialBlockSchedule, ...) spelled either way.
  std::string key;
  for (const char c : name) {
    if (c != '_') key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (key.size() > 8 && key.ends_with("schedule")) key.resize(key.size() - 8);
  for (const ScheduleKind kind :
       {ScheduleKind::kSequential, ScheduleKind::kRandom, ScheduleKind::kSequentialBlock,
        ScheduleKind::kRandomBlock, ScheduleKind::kExplicit}) {
    std::string candidate(schedule_kind_name(kind));
    std::erase(candidate, '_');
    if (key == candidate) return kind;
  }
  throw InvalidArgumentError(std::string(kContext) + ": unknown schedule '" + std::string(name) +
                             "' (accepted: sequential, random, sequential_block, random_block, "
                             "explicit)");
}

std::string_view schedule_unit_name(ScheduleUnit unit) {
  switch (unit) {
    case ScheduleUnit::kStep:
      return "step";
    case ScheduleUnit::kTrial:
      return "trial";
    case ScheduleUnit::kEpisode:
      return "episode";
  }
  throw InvalidArgumentError("invalid ScheduleUnit value " +
                             std::to_string(static_cast<int>(unit)));
}

ScheduleUnit schedule_unit_from_name(std::string_view name) {
  for (const ScheduleUnit unit :
       {ScheduleUnit::kStep, ScheduleUnit::kTrial, ScheduleUnit::kEpisode}) {
    if (name == schedule_unit_name(unit) || name == std::string(schedule_unit_name(unit)) + "s") {
      return unit;
    }
  }
  throw InvalidArgumentError(std::string(kContext) + ": unknown schedule unit '" +
                             std::string(name) + "' (accepted: trial, episode, step)");
}

TaskSequenceConfig task_sequence_config_from_kwargs(const Kwargs& kwargs) {
  if (!kwargs.is_null() && !kwargs.is_object()) {
    invalid("arguments must be a JSON object, got " + kwargs.dump());
  }
  TaskSequenceConfig config;
  config.tasks = {{"CartPole-v1"},
                  {"CartPoleLongPole-v1"},
                  {"CartPoleHeavyPole-v1"},
                  {"CartPoleLowGravity-v1"}};
  if (kwargs.is_null()) return config;
  reject_unknown_keys(kwargs, {"tasks", "schedule", "scenario", "task_input", "out_of_task_reward"},
                      "argument");
  if (kwargs.contains("tasks") && !kwargs["tasks"].is_null()) {
    config.tasks = parse_tasks(kwargs["tasks"]);
  }
  if (kwargs.contains("schedule") && !kwargs["schedule"].is_null()) {
    config.schedule = parse_schedule(kwargs["schedule"], config.tasks.size());
  }
  Kwargs scalars = kwargs;
  scalars.erase("tasks");
  scalars.erase("schedule");
  KwargsReader reader(scalars, kContext);
  config.scenario = scenario_from_name(reader.get<std::string>("scenario", "task-incremental"));
  config.task_input = reader.get<bool>("task_input", false);
  config.out_of_task_reward = reader.get<double>("out_of_task_reward", 0.0);
  reader.finish();
  return config;
}

TaskSequence::TaskSequence(const Kwargs& kwargs)
    : TaskSequence(task_sequence_config_from_kwargs(kwargs)) {}

TaskSequence::TaskSequence(TaskSequenceConfig config) : config_(std::move(config)) {
  const auto n = static_cast<std::int64_t>(config_.tasks.size());
  if (n == 0) invalid("needs at least one task");
  Schedule& schedule = config_.schedule;
  const bool block_kind = schedule.kind == ScheduleKind::kSequentialBlock ||
                          schedule.kind == ScheduleKind::kRandomBlock;
  const std::string kind(schedule_kind_name(schedule.kind));
  if (block_kind) {
    if (static_cast<std::int64_t>(schedule.block_lengths.size()) != n) {
      invalid("the " + kind + " schedule needs one block length per task (" + std::to_string(n) +
              ", or one number for all), got " + std::to_string(schedule.block_lengths.size()));
    }
    for (const auto length : schedule.block_lengths) {
      if (length <= 0) invalid("block lengths must be positive, got " + std::to_string(length));
    }
  } else if (!schedule.block_lengths.empty()) {
    invalid("block_lengths belong to the sequential_block and random_block schedules, not " + kind);
  }
  if (schedule.kind == ScheduleKind::kExplicit) {
    if (schedule.blocks.empty()) invalid("the explicit schedule needs at least one block");
    for (std::size_t i = 0; i < schedule.blocks.size(); ++i) {
      const auto& block = schedule.blocks[i];
      if (block.task < 0 || block.task >= n) {
        invalid("schedule block " + std::to_string(i) + " names task " +
                std::to_string(block.task) + "; the sequence has tasks 0.." +
                std::to_string(n - 1));
      }
      if (block.length <= 0) {
        invalid("schedule block " + std::to_string(i) + " has length " +
                std::to_string(block.length) + "; lengths must be positive");
      }
    }
  } else if (!schedule.blocks.empty()) {
    invalid("blocks belong to the explicit schedule, not " + kind);
  }
  if (config_.task_input && !reveals_task_id(config_.scenario)) {
    invalid("task_input shows the task id, which the " +
            std::string(scenario_name(config_.scenario)) +
            " scenario hides; use it in task-incremental sequences only");
  }

  for (std::size_t i = 0; i < config_.tasks.size(); ++i) {
    Task task;
    try {
      task.env = make(config_.tasks[i].id, config_.tasks[i].kwargs, {.disable_env_checker = true});
    } catch (const std::exception& e) {
      invalid("cannot make " + describe_task(config_, i) + ": " + e.what());
    }
    task.observation.resize(task.env->observation_space().packed_bytes());
    tasks_.push_back(std::move(task));
  }
  build_spaces();
}

void TaskSequence::build_spaces() {
  const Space& first_observations = tasks_[0].env->observation_space();
  const Space& first_actions = tasks_[0].env->action_space();
  const auto n = tasks_.size();

  // Observations: Boxes of one shape and dtype (bounds united), or equal spaces of another kind.
  SpacePtr observations;
  if (const auto* first_box = dynamic_cast<const Box*>(&first_observations)) {
    std::vector<double> low = first_box->low();
    std::vector<double> high = first_box->high();
    for (std::size_t i = 1; i < n; ++i) {
      const auto* box = dynamic_cast<const Box*>(&tasks_[i].env->observation_space());
      if (box == nullptr || box->shape() != first_box->shape() ||
          box->dtype() != first_box->dtype()) {
        invalid(describe_task(config_, i) + " has observation space " +
                tasks_[i].env->observation_space().to_string() + " but " +
                describe_task(config_, 0) + " has " + first_box->to_string() +
                "; the tasks of a sequence need observations of the same shape and dtype");
      }
      for (std::size_t k = 0; k < low.size(); ++k) {
        low[k] = std::min(low[k], box->low()[k]);
        high[k] = std::max(high[k], box->high()[k]);
      }
    }
    Shape shape = first_box->shape();
    if (config_.task_input) {
      if (shape.size() != 1 || !is_floating(first_box->dtype())) {
        invalid(
            "task_input appends a one-hot task id to the observation, which needs a 1-D float "
            "Box; " +
            describe_task(config_, 0) + " has " + first_box->to_string());
      }
      shape[0] += static_cast<std::int64_t>(n);
      low.resize(low.size() + n, 0.0);
      high.resize(high.size() + n, 1.0);
    }
    observations = std::make_shared<Box>(low, high, shape, first_box->dtype());
  } else {
    for (std::size_t i = 1; i < n; ++i) {
      if (!tasks_[i].env->observation_space().equals(first_observations)) {
        invalid(describe_task(config_, i) + " has observation space " +
                tasks_[i].env->observation_space().to_string() + " but " +
                describe_task(config_, 0) + " has " + first_observations.to_string() +
                "; observation spaces other than Box must be equal");
      }
    }
    if (config_.task_input) {
      invalid(
          "task_input appends a one-hot task id to the observation, which needs a 1-D float "
          "Box; " +
          describe_task(config_, 0) + " has " + first_observations.to_string());
    }
    observations = first_observations.clone();
  }
  task_observation_bytes_ = static_cast<std::int64_t>(first_observations.packed_bytes());

  // Actions: Discrete spaces may differ (their union) except in domain-incremental sequences.
  const bool all_discrete = std::all_of(tasks_.begin(), tasks_.end(), [](const Task& task) {
    return task.env->action_space().kind() == SpaceKind::kDiscrete;
  });
  SpacePtr actions;
  if (all_discrete) {
    std::int64_t low = INT64_MAX;
    std::int64_t high = INT64_MIN;
    for (std::size_t i = 0; i < n; ++i) {
      const auto& discrete = dynamic_cast<const Discrete&>(tasks_[i].env->action_space());
      tasks_[i].action_start = discrete.start();
      tasks_[i].action_count = discrete.n();
      low = std::min(low, discrete.start());
      high = std::max(high, discrete.start() + discrete.n());
      if (config_.scenario == Scenario::kDomainIncremental && !discrete.equals(first_actions)) {
        invalid(describe_task(config_, i) + " has action space " + discrete.to_string() + " but " +
                describe_task(config_, 0) + " has " + first_actions.to_string() +
                "; domain-incremental tasks share one action space (class- and task-incremental "
                "sequences take the union)");
      }
    }
    actions = std::make_shared<Discrete>(high - low, low);
    discrete_actions_ = true;
    substitute_action_.resize(sizeof(std::int64_t));
  } else {
    for (std::size_t i = 1; i < n; ++i) {
      if (!tasks_[i].env->action_space().equals(first_actions)) {
        invalid(describe_task(config_, i) + " has action space " +
                tasks_[i].env->action_space().to_string() + " but " + describe_task(config_, 0) +
                " has " + first_actions.to_string() +
                "; action spaces other than Discrete must be equal in every scenario");
      }
    }
    if (config_.scenario == Scenario::kClassIncremental) {
      invalid("class-incremental sequences unite Discrete action spaces; " +
              describe_task(config_, 0) + " has " + first_actions.to_string());
    }
    actions = first_actions.clone();
  }
  set_observation_space(std::move(observations));
  set_action_space(std::move(actions));
}

Env& TaskSequence::task_env(std::int64_t task) {
  if (task < 0 || task >= num_tasks()) {
    invalid("task " + std::to_string(task) + " is out of range; the sequence has tasks 0.." +
            std::to_string(num_tasks() - 1));
  }
  return *tasks_[static_cast<std::size_t>(task)].env;
}

void TaskSequence::restart_schedule() {
  block_index_ = 0;
  explicit_position_ = 0;
  schedule_finished_ = false;
  steps_in_block_ = trials_in_block_ = episodes_in_block_ = 0;
  switch (config_.schedule.kind) {
    case ScheduleKind::kSequential:
    case ScheduleKind::kSequentialBlock:
      current_ = 0;
      break;
    case ScheduleKind::kRandom:
    case ScheduleKind::kRandomBlock:
      current_ = np_random().integers(num_tasks());
      break;
    case ScheduleKind::kExplicit:
      current_ = config_.schedule.blocks[0].task;
      break;
  }
}

bool TaskSequence::block_complete() const {
  if (schedule_finished_) return false;
  const Schedule& schedule = config_.schedule;
  std::int64_t length = 1;
  ScheduleUnit unit = schedule.unit;
  if (schedule.kind == ScheduleKind::kExplicit) {
    const auto& block = schedule.blocks[static_cast<std::size_t>(explicit_position_)];
    length = block.length;
    unit = block.unit;
  } else if (!schedule.block_lengths.empty()) {
    length = schedule.block_lengths[static_cast<std::size_t>(current_)];
  }
  switch (unit) {
    case ScheduleUnit::kStep:
      return steps_in_block_ >= length;
    case ScheduleUnit::kTrial:
      return trials_in_block_ >= length;
    case ScheduleUnit::kEpisode:
      return episodes_in_block_ >= length;
  }
  return false;
}

std::int64_t TaskSequence::draw_other_task(std::int64_t than) {
  if (num_tasks() == 1) return 0;
  const std::int64_t pick = np_random().integers(num_tasks() - 1);
  return pick >= than ? pick + 1 : pick;
}

void TaskSequence::advance_schedule() {
  switch (config_.schedule.kind) {
    case ScheduleKind::kSequential:
    case ScheduleKind::kSequentialBlock:
      current_ = (current_ + 1) % num_tasks();
      break;
    case ScheduleKind::kRandom:
    case ScheduleKind::kRandomBlock:
      current_ = draw_other_task(current_);
      break;
    case ScheduleKind::kExplicit: {
      const auto blocks = static_cast<std::int64_t>(config_.schedule.blocks.size());
      if (explicit_position_ + 1 == blocks && !config_.schedule.repeat) {
        schedule_finished_ = true;  // stay in the last block's task from now on
        return;
      }
      explicit_position_ = (explicit_position_ + 1) % blocks;
      current_ = config_.schedule.blocks[static_cast<std::size_t>(explicit_position_)].task;
      break;
    }
  }
  ++block_index_;
  steps_in_block_ = trials_in_block_ = episodes_in_block_ = 0;
}

void TaskSequence::start_task(std::int64_t task, Info& info, const Kwargs& options) {
  Task& entry = tasks_[static_cast<std::size_t>(task)];
  entry.env->reset(entry.observation, info, entry.seed, options);
  entry.seed.reset();
  entry.needs_reset = false;
}

void TaskSequence::write_observation(std::int64_t task, std::span<std::byte> observation,
                                     Info& info) {
  const Task& entry = tasks_[static_cast<std::size_t>(task)];
  std::memcpy(observation.data(), entry.observation.data(),
              static_cast<std::size_t>(task_observation_bytes_));
  if (config_.task_input) {
    const auto tail = observation.subspan(static_cast<std::size_t>(task_observation_bytes_));
    const auto dtype = dynamic_cast<const Box&>(observation_space()).dtype();
    for (std::int64_t k = 0; k < num_tasks(); ++k) {
      const double one_hot = k == task ? 1.0 : 0.0;
      if (dtype == DType::kFloat32) {
        as_span<float>(tail)[static_cast<std::size_t>(k)] = static_cast<float>(one_hot);
      } else {
        as_span<double>(tail)[static_cast<std::size_t>(k)] = one_hot;
      }
    }
  }
  info.set("task_boundary", task != shown_task_);
  info.set("block", block_index_);
  if (reveals_task_id(config_.scenario)) info.set("task_id", task);
  shown_task_ = task;
}

void TaskSequence::reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                              std::span<std::byte> observation, Info& info) {
  if (seed || !started_) {
    // A seeded (or first) reset restarts the whole sequence: a seed per task, then the schedule.
    for (Task& task : tasks_) {
      task.seed = static_cast<std::uint64_t>(np_random().integers(2147483647));
      task.needs_reset = true;
    }
    restart_schedule();
    shown_task_ = -1;
    started_ = true;
  }
  start_task(current_, info, options);
  write_observation(current_, observation, info);
}

StepOutcome TaskSequence::step_impl(std::span<const std::byte> action,
                                    std::span<std::byte> observation, Info& info) {
  const std::int64_t stepped = current_;
  Task& task = tasks_[static_cast<std::size_t>(stepped)];
  std::span<const std::byte> task_action = action;
  bool outside = false;
  if (discrete_actions_) {
    const std::int64_t chosen = as_span<const std::int64_t>(action)[0];
    if (chosen < task.action_start || chosen >= task.action_start + task.action_count) {
      // The union's action is not one of this task's: the task sees its first action instead.
      outside = true;
      as_span<std::int64_t>(std::span(substitute_action_))[0] = task.action_start;
      task_action = substitute_action_;
    }
  }
  StepOutcome outcome = task.env->step(task_action, task.observation, info);
  if (outside) {
    outcome.reward += config_.out_of_task_reward;
    info.set("action_outside_task", true);
  }
  const bool episode_end = outcome.terminated || outcome.truncated;
  const bool trial_end = episode_end || reports_new_trial(info);
  ++steps_in_block_;
  if (trial_end) ++trials_in_block_;
  if (episode_end) {
    ++episodes_in_block_;
    task.needs_reset = true;
  }
  if (trial_end && block_complete()) advance_schedule();

  if (episode_end || current_ == stepped) {
    // The episode's last observation is the old task's; a new task shows at the next reset.
    write_observation(stepped, observation, info);
  } else {
    if (tasks_[static_cast<std::size_t>(current_)].needs_reset) {
      start_task(current_, info.nested("reset_info"), Kwargs::object());
    }
    write_observation(current_, observation, info);
  }
  return outcome;
}

std::string TaskSequence::render() {
  return tasks_[static_cast<std::size_t>(current_task())].env->render();
}

void TaskSequence::close() {
  for (Task& task : tasks_) task.env->close();
}

}  // namespace locus::envs
