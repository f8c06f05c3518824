#include "bench/rl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>

#include "agents/errors.hpp"
#include "bench/errors.hpp"
#include "envs/errors.hpp"
#include "envs/registry.hpp"
#include "envs/state_json.hpp"
#include "envs/vector_env.hpp"

namespace locus::bench {

namespace {

using nlohmann::json;
namespace nm = locus::neuromod;
constexpr const char* kSwitchEnvId = "bench/TaskSwitch-v0";

// ---- the task-switching env -----------------------------------------------------------------

// Holds every task of a sequence (each made through the registry, with its own time limit) and
// shows the selected one. kwargs: {"tasks": [{"id", "kwargs"}, ...], "task": k, "task_input": b}.
class TaskSwitchEnv final : public envs::Env {
 public:
  explicit TaskSwitchEnv(const envs::Kwargs& kwargs) {
    const auto fail = [](const std::string& why) {
      throw envs::InvalidArgumentError(fmt::format("{}: {}", kSwitchEnvId, why));
    };
    for (const auto& [key, value] : kwargs.items()) {
      if (key != "tasks" && key != "task" && key != "task_input") {
        fail(fmt::format("unknown kwarg '{}'; kwargs: tasks, task, task_input", key));
      }
    }
    if (!kwargs.contains("tasks") || !kwargs["tasks"].is_array() || kwargs["tasks"].empty()) {
      fail("kwarg 'tasks' must be a non-empty list of {id, kwargs}");
    }
    task_input_ = kwargs.value("task_input", false);
    std::size_t width = 0;
    for (const auto& task : kwargs["tasks"]) {
      const std::string id = task.at("id").get<std::string>();
      Task entry;
      entry.env = envs::make(id, task.value("kwargs", json::object()));
      const auto* box = dynamic_cast<const envs::Box*>(&entry.env->observation_space());
      if (box == nullptr || box->dtype() != envs::DType::kFloat32 || box->shape().size() != 1) {
        fail(fmt::format("task {} has observation space {}; RL sequences need a 1-D float32 Box",
                         id, entry.env->observation_space().to_string()));
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
      width = std::max(width, box->low().size());
      tasks_.push_back(std::move(entry));
    }
    width_ = width;
    const std::size_t total = width_ + (task_input_ ? tasks_.size() : 0);
    // Bounds: the union over tasks; a dimension that a task lacks is 0 there (padding).
    std::vector<double> low(total, 0.0), high(total, 0.0);
    for (std::size_t d = 0; d < width_; ++d) {
      bool first = true;
      for (const Task& task : tasks_) {
        const auto& box = static_cast<const envs::Box&>(task.env->observation_space());
        const double lo = d < box.low().size() ? box.low()[d] : 0.0;
        const double hi = d < box.high().size() ? box.high()[d] : 0.0;
        low[d] = first ? lo : std::min(low[d], lo);
        high[d] = first ? hi : std::max(high[d], hi);
        first = false;
      }
    }
    for (std::size_t d = width_; d < total; ++d) high[d] = 1.0;
    set_observation_space(
        std::make_shared<envs::Box>(low, high, envs::Shape{static_cast<std::int64_t>(total)}));
    set_action_space(tasks_[0].env->action_space().clone());
    set_task(kwargs.value("task", std::int64_t{0}));
  }

  std::string name() const override { return "TaskSwitchEnv"; }

  // The task shown from the next reset() on.
  void set_task(std::int64_t task) {
    if (task < 0 || task >= static_cast<std::int64_t>(tasks_.size())) {
      throw envs::InvalidArgumentError(
          fmt::format("{}: task {} is out of range 0..{}", kSwitchEnvId, task, tasks_.size() - 1));
    }
    pending_ = task;
  }

  bool supports_state() const override {
    return std::all_of(tasks_.begin(), tasks_.end(),
                       [](const Task& task) { return task.env->supports_state(); });
  }

 protected:
  json save_state_impl() const override {
    json tasks = json::array();
    for (const Task& task : tasks_) {
      tasks.push_back({{"env", task.env->save_state()},
                       {"observation", envs::state_json::from_bytes(task.observation)},
                       {"seeded", task.seeded}});
    }
    return {{"tasks", tasks}, {"active", active_}, {"pending", pending_}};
  }

  void restore_state_impl(const json& fields) override {
    const envs::StateReader reader(fields, name(), "fields");
    const auto last = static_cast<std::int64_t>(tasks_.size()) - 1;
    const std::int64_t active = reader.get_int("active", 0, last);
    const std::int64_t pending = reader.get_int("pending", 0, last);
    const json& saved = reader.at("tasks");
    if (!saved.is_array() || saved.size() != tasks_.size()) {
      reader.fail("tasks", fmt::format("must hold {} task states, one per task", tasks_.size()));
    }
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      const envs::StateReader task(saved[i], name(), fmt::format("fields.tasks[{}]", i));
      tasks_[i].observation = task.get_bytes("observation", tasks_[i].observation.size());
      tasks_[i].seeded = task.get_bool("seeded");
      // Checks its own state; Env::restore_state rolls everything back if one is refused.
      tasks_[i].env->restore_state(task.at("env"));
    }
    active_ = active;
    pending_ = pending;
  }

  void reset_impl(const std::optional<envs::Seed>& seed, const envs::Kwargs& options,
                  std::span<std::byte> observation, envs::Info& info) override {
    active_ = pending_;
    Task& task = tasks_[static_cast<std::size_t>(active_)];
    if (!seed && !task.seeded) {
      // Unseeded, the task would draw fresh entropy: results would not repeat.
      throw envs::InvalidArgumentError(
          fmt::format("{}: task {} ({}) was never seeded; reset it with a seed first", kSwitchEnvId,
                      active_, task.id));
    }
    task.seeded = true;
    task.env->reset(task.observation, info, seed, options);
    write_observation(observation);
  }

  envs::StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                              envs::Info& info) override {
    Task& task = tasks_[static_cast<std::size_t>(active_)];
    const envs::StepOutcome outcome = task.env->step(action, task.observation, info);
    write_observation(observation);
    return outcome;
  }

 private:
  struct Task {
    std::string id;
    std::unique_ptr<envs::Env> env;
    std::vector<std::byte> observation;  // its own packed float32 observation
    bool seeded = false;
  };

  void write_observation(std::span<std::byte> observation) const {
    const Task& task = tasks_[static_cast<std::size_t>(active_)];
    std::fill(observation.begin(), observation.end(), std::byte{0});
    std::memcpy(observation.data(), task.observation.data(), task.observation.size());
    if (task_input_) {
      const float one = 1.0f;
      std::memcpy(observation.data() + (width_ + static_cast<std::size_t>(active_)) * sizeof(float),
                  &one, sizeof(float));
    }
  }

  std::vector<Task> tasks_;
  std::size_t width_ = 0;
  bool task_input_ = false;
  std::int64_t active_ = 0;
  std::int64_t pending_ = 0;
};

void register_switch_env() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto& registry = envs::Registry::global();
    if (registry.contains(kSwitchEnvId)) return;
    registry.register_env(
        {.id = kSwitchEnvId,
         .entry_point = [](const envs::Kwargs& kwargs) -> std::unique_ptr<envs::Env> {
           return std::make_unique<TaskSwitchEnv>(kwargs);
         },
         .description = "bench: the tasks of an RL continual sequence, one shown at a time"});
  });
}

TaskSwitchEnv& switch_env(envs::Env& env) {
  auto* switching = dynamic_cast<TaskSwitchEnv*>(&env.unwrapped());
  if (switching == nullptr) {
    throw InvalidArgumentError(
        fmt::format("the agent's env is {}, not {}", env.to_string(), kSwitchEnvId));
  }
  return *switching;
}

json switch_kwargs(const RlScenario& scenario, std::int64_t task) {
  json tasks = json::array();
  for (const auto& t : scenario.tasks) {
    json kwargs = scenario.env_kwargs;
    kwargs.update(t.kwargs);
    tasks.push_back({{"id", t.id}, {"kwargs", kwargs}});
  }
  return {{"tasks", tasks}, {"task", task}, {"task_input", scenario.task_input}};
}

// ---- settings -------------------------------------------------------------------------------

// Run settings that are the harness's, not the agent's (their defaults are the supervised runs').
struct HarnessSetting {
  const char* key;
  json default_value;
  const char* help;
};
const std::vector<HarnessSetting>& harness_settings() {
  static const std::vector<HarnessSetting> table = {
      {"iterations_per_task", 100, "agent updates per task"},
      {"eval_every", 10, "evaluate every task seen so far every this many updates"},
      {"gap_epsilon", 0.02, "recovery band of the gap metrics"},
      {"gap_window", 5, "evaluations in the gap baseline and smoothing"},
  };
  return table;
}

bool is_agent_key(const std::string& key) {
  if (key == "env" || key == "env_kwargs" || key == "seed") return false;
  const auto& keys = agents::AgentConfig::keys();
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

}  // namespace

// ---- scenario -------------------------------------------------------------------------------

std::string_view rl_score_name(RlScore score) {
  return score == RlScore::kSuccess ? "success" : "return";
}

RlScore rl_score_from_name(std::string_view name) {
  if (name == "success") return RlScore::kSuccess;
  if (name == "return") return RlScore::kReturn;
  throw InvalidArgumentError(
      fmt::format("RL scenario 'score' is '{}'; allowed: success, return", name));
}

void RlScenario::validate() const {
  if (tasks.empty()) throw InvalidArgumentError("RL scenario 'tasks' lists no task");
  for (const auto& task : tasks) {
    if (task.id.empty()) throw InvalidArgumentError("RL scenario task with an empty id");
    if (!task.kwargs.is_object()) {
      throw InvalidArgumentError(fmt::format(
          "RL scenario task {}: kwargs must be a mapping, got {}", task.id, task.kwargs.dump()));
    }
  }
  if (!env_kwargs.is_object()) {
    throw InvalidArgumentError(
        fmt::format("RL scenario 'env_kwargs' must be a mapping, got {}", env_kwargs.dump()));
  }
  if (!(return_scale > 0.0) || !std::isfinite(return_scale)) {
    throw InvalidArgumentError(
        fmt::format("RL scenario 'return_scale' {} must be a positive number", return_scale));
  }
  if (eval_episodes < 1) {
    throw InvalidArgumentError(
        fmt::format("RL scenario 'eval_episodes' {} must be >= 1", eval_episodes));
  }
}

RlScenario RlScenario::from_json(const json& j) {
  if (!j.is_object()) {
    throw InvalidArgumentError(fmt::format("the RL scenario must be a mapping, got {}", j.dump()));
  }
  RlScenario s;
  const auto number = [&](const std::string& key) {
    if (!j[key].is_number()) {
      throw InvalidArgumentError(
          fmt::format("RL scenario '{}' must be a number, got {}", key, j[key].dump()));
    }
    return j[key].get<double>();
  };
  const auto whole = [&](const std::string& key) {
    if (!j[key].is_number_integer() || j[key].get<std::int64_t>() < 0) {
      throw InvalidArgumentError(fmt::format(
          "RL scenario '{}' must be a non-negative integer, got {}", key, j[key].dump()));
    }
    return j[key].get<std::int64_t>();
  };
  for (const auto& [key, value] : j.items()) {
    if (key == "kind") {
      if (value != "rl") {
        throw InvalidArgumentError(
            fmt::format("RL scenario 'kind' must be rl, got {}", value.dump()));
      }
    } else if (key == "tasks") {
      s.tasks = task_list_from_json(value, "RL scenario");
    } else if (key == "env_kwargs") {
      s.env_kwargs = value;
    } else if (key == "task_input") {
      if (!value.is_boolean()) {
        throw InvalidArgumentError(
            fmt::format("RL scenario 'task_input' must be true or false, got {}", value.dump()));
      }
      s.task_input = value.get<bool>();
    } else if (key == "score") {
      if (!value.is_string()) {
        throw InvalidArgumentError(
            fmt::format("RL scenario 'score' must be success or return, got {}", value.dump()));
      }
      s.score = rl_score_from_name(value.get<std::string>());
    } else if (key == "return_scale") {
      s.return_scale = number(key);
    } else if (key == "eval_episodes") {
      s.eval_episodes = whole(key);
    } else if (key == "eval_seed") {
      s.eval_seed = static_cast<std::uint64_t>(whole(key));
    } else {
      throw InvalidArgumentError(
          fmt::format("unknown RL scenario key '{}'; keys: kind, tasks, env_kwargs, task_input, "
                      "score, return_scale, eval_episodes, eval_seed",
                      key));
    }
  }
  s.validate();
  return s;
}

json RlScenario::to_json() const {
  return {{"kind", "rl"},
          {"tasks", task_list_to_json(tasks)},
          {"env_kwargs", env_kwargs},
          {"task_input", task_input},
          {"score", rl_score_name(score)},
          {"return_scale", return_scale},
          {"eval_episodes", eval_episodes},
          {"eval_seed", eval_seed}};
}

// ---- settings (public) ----------------------------------------------------------------------

bool is_rl_setting(const std::string& key) {
  for (const auto& s : harness_settings()) {
    if (key == s.key) return true;
  }
  return is_agent_key(key);
}

std::string rl_setting_names() {
  std::string out;
  for (const auto& s : harness_settings()) out += (out.empty() ? "" : ", ") + std::string(s.key);
  for (const auto& key : agents::AgentConfig::keys()) {
    if (is_agent_key(key)) out += ", " + key;
  }
  return out;
}

std::string rl_settings_help() {
  std::string out;
  for (const auto& s : harness_settings()) {
    out += fmt::format("  {:<20} {:<18} {}\n", s.key, s.default_value.dump(), s.help);
  }
  const json defaults = agents::AgentConfig{}.to_json();
  for (const auto& key : agents::AgentConfig::keys()) {
    if (!is_agent_key(key)) continue;
    out += fmt::format("  {:<20} {:<18} {}\n", key, defaults.value(key, json()).dump(),
                       "agent (agents/config.hpp)");
  }
  return out;
}

RlConfig rl_config(const json& scenario, const json& settings, std::uint64_t seed) {
  if (!settings.is_object()) throw InvalidArgumentError("run settings must be a mapping");
  RlConfig config;
  config.scenario = RlScenario::from_json(scenario);
  json agent = json::object();
  for (const auto& [key, value] : settings.items()) {
    if (!is_rl_setting(key)) {
      throw InvalidArgumentError(
          fmt::format("unknown setting '{}' for an RL run (scenario kind rl); settings: {}", key,
                      rl_setting_names()));
    }
    if (is_agent_key(key)) agent[key] = value;
  }
  try {
    agents::apply_json(config.agent, agent);
    config.agent.seed = seed;
    config.agent.env = kSwitchEnvId;
    config.agent.env_kwargs = switch_kwargs(config.scenario, 0);
    config.agent.validate();
  } catch (const agents::ConfigError& e) {
    throw InvalidArgumentError(e.what());
  }
  // The tasks exist, take their kwargs and fit together (spaces): checked before any run starts.
  register_switch_env();
  try {
    (void)envs::make(kSwitchEnvId, config.agent.env_kwargs);
  } catch (const envs::Error& e) {
    throw InvalidArgumentError(fmt::format("RL scenario: {}", e.what()));
  }
  return config;
}

// ---- learner --------------------------------------------------------------------------------

// The fixed evaluation episodes of one task: eval_episodes envs, one episode each, seeded
// eval_seed + i at every evaluation.
struct RlLearner::Evaluator {
  envs::VectorEnv env;
  std::size_t observation_dim = 0;
  std::size_t frame_stack = 1;
  std::vector<float> history;  // (episodes, frame_stack * observation_dim)
};

RlLearner::RlLearner(const RlConfig& config) : config_(config) {
  config_.scenario.validate();
  register_switch_env();
  config_.agent.env = kSwitchEnvId;
  config_.agent.env_kwargs = switch_kwargs(config_.scenario, 0);
  try {
    agent_ = std::make_unique<agents::Agent>(config_.agent);
  } catch (const envs::InvalidArgumentError& e) {
    throw InvalidArgumentError(e.what());
  }
  task_contexts_.assign(config_.scenario.tasks.size(), std::nullopt);
  evaluators_.resize(config_.scenario.tasks.size());
}

RlLearner::~RlLearner() = default;

std::int64_t RlLearner::num_tasks() const {
  return static_cast<std::int64_t>(config_.scenario.tasks.size());
}

void RlLearner::begin_task(std::int64_t task) {
  if (task < 0 || task >= num_tasks()) {
    throw InvalidArgumentError(fmt::format("task {} is out of range; the sequence has tasks 0..{}",
                                           task, num_tasks() - 1));
  }
  task_ = task;
  envs::VectorEnv& env = agent_->env();
  for (std::size_t i = 0; i < env.num_envs(); ++i) switch_env(env.env(i)).set_task(task);
  if (config_.agent.contexts == agents::ContextPolicy::kTaskId) {
    agent_->select_task(task);
    task_contexts_[static_cast<std::size_t>(task)] = agent_->network().selected_context();
  }
  // Fresh episodes of the new task; unfinished episodes of the old one are dropped.
  agent_->begin_segment();
}

TrainStep RlLearner::train_step() {
  if (task_ < 0) throw InvalidArgumentError("train_step() before begin_task()");
  const agents::UpdateStats stats = agent_->update();
  return {stats.loss,
          static_cast<std::int64_t>(config_.agent.rollout_steps * config_.agent.num_envs)};
}

nm::ContextId RlLearner::evaluation_context(std::int64_t task) const {
  const auto& context = task_contexts_[static_cast<std::size_t>(task)];
  return context ? *context : agent_->network().selected_context();
}

double RlLearner::evaluate(std::int64_t task) {
  if (task < 0 || task >= num_tasks()) {
    throw InvalidArgumentError(fmt::format("task {} is out of range; the sequence has tasks 0..{}",
                                           task, num_tasks() - 1));
  }
  auto& slot = evaluators_[static_cast<std::size_t>(task)];
  const auto episodes = static_cast<std::size_t>(config_.scenario.eval_episodes);
  if (!slot) {
    envs::VectorEnvOptions options;
    // Each env plays exactly one episode, so no episode is counted because it happened to be
    // short: an env that ended is reset by the next step and ignored from then on.
    options.autoreset_mode = envs::AutoresetMode::kNextStep;
    options.num_threads = 1;
    slot = std::make_unique<Evaluator>(Evaluator{
        envs::make_vec(kSwitchEnvId, episodes, switch_kwargs(config_.scenario, task), options)});
    slot->observation_dim = slot->env.single_observation_space().packed_bytes() / sizeof(float);
    slot->frame_stack = config_.agent.frame_stack;
    slot->history.assign(episodes * slot->observation_dim * slot->frame_stack, 0.0f);
  }
  Evaluator& ev = *slot;
  const std::size_t dim = ev.observation_dim, input = dim * ev.frame_stack;
  // The frame stack as the agent builds it: zeros after a reset, the newest frame last.
  const auto push = [&](std::size_t i, bool reset) {
    float* row = ev.history.data() + i * input;
    if (reset) {
      std::fill(row, row + input, 0.0f);
    } else {
      std::memmove(row, row + dim, (input - dim) * sizeof(float));
    }
    const auto obs = ev.env.observation_bytes(i);
    std::memcpy(row + input - dim, obs.data(), dim * sizeof(float));
  };
  ev.env.reset(config_.scenario.eval_seed);
  for (std::size_t i = 0; i < episodes; ++i) push(i, true);

  nm::Network& network = agent_->network();
  const std::vector<nm::ContextId> contexts(episodes, evaluation_context(task));
  const bool discrete = agent_->discrete();
  const auto* box = dynamic_cast<const envs::Box*>(&ev.env.single_action_space());
  const std::size_t action_dim = discrete ? 0 : box->low().size();
  std::vector<std::int64_t> discrete_actions(episodes, 0);
  std::vector<float> continuous_actions(episodes * action_dim, 0.0f);
  std::vector<char> done(episodes, 0);
  std::vector<double> returns(episodes, 0.0);
  std::size_t remaining = episodes, trials = 0, correct = 0;
  nm::Matrix batch({episodes, input});
  constexpr std::size_t kMaxSteps = 100000;
  for (std::size_t step = 0; remaining > 0; ++step) {
    if (step == kMaxSteps) {
      throw InvalidArgumentError(fmt::format(
          "evaluating task {} ({}): episodes still running after {} steps; give the task a time "
          "limit or trials_per_episode",
          task, config_.scenario.tasks[static_cast<std::size_t>(task)].id, kMaxSteps));
    }
    std::copy(ev.history.begin(), ev.history.end(), batch.data());
    const auto& out = network.forward(batch, contexts);
    for (std::size_t i = 0; i < episodes; ++i) {
      if (discrete) {
        std::size_t best = 0;
        for (std::size_t a = 1; a < out[0].shape(1); ++a) {
          if (out[0](i, a) > out[0](i, best)) best = a;
        }
        discrete_actions[i] =
            static_cast<std::int64_t>(best) +
            static_cast<const envs::Discrete&>(ev.env.single_action_space()).start();
      } else {
        for (std::size_t a = 0; a < action_dim; ++a) {
          continuous_actions[i * action_dim + a] =
              static_cast<float>(std::clamp<double>(out[0](i, a), box->low()[a], box->high()[a]));
        }
      }
    }
    if (discrete) {
      ev.env.step(std::span<const std::int64_t>(discrete_actions));
    } else {
      ev.env.step(std::span<const float>(continuous_actions));
    }
    for (std::size_t i = 0; i < episodes; ++i) {
      if (done[i]) continue;
      returns[i] += ev.env.rewards()[i];
      const envs::Info& info = ev.env.info(i);
      const auto* ended = info.find("trial_ended");
      if (ended != nullptr && std::holds_alternative<bool>(*ended) && std::get<bool>(*ended)) {
        if (const auto* c = info.find("correct");
            c != nullptr && std::holds_alternative<bool>(*c)) {
          trials += 1;
          correct += std::get<bool>(*c) ? 1 : 0;
        }
      }
      if (ev.env.terminations()[i] || ev.env.truncations()[i]) {
        done[i] = 1;
        remaining -= 1;
      } else {
        push(i, false);
      }
    }
  }
  if (config_.scenario.score == RlScore::kSuccess) {
    if (trials == 0) {
      throw InvalidArgumentError(fmt::format(
          "score success needs trials (info 'correct' at trial ends); task {} ({}) had none in {} "
          "episodes; use score: return",
          task, config_.scenario.tasks[static_cast<std::size_t>(task)].id, episodes));
    }
    return static_cast<double>(correct) / static_cast<double>(trials);
  }
  double sum = 0.0;
  for (const double r : returns) sum += r;
  return sum / static_cast<double>(episodes) / config_.scenario.return_scale;
}

std::int64_t RlLearner::parameter_count() const {
  const nm::Network& network = agent_->network();
  std::int64_t count = static_cast<std::int64_t>(agent_->log_std().size());
  for (const auto& info : network.parameters()) {
    const bool learned =
        info.context != nm::kSharedContext
            ? true
            : info.trainable && network.gradient_mode() == nm::GradientMode::kAllTrainable;
    if (learned) count += static_cast<std::int64_t>(info.size());
  }
  return count;
}

std::int64_t RlLearner::bytes_per_task() const {
  if (config_.agent.contexts != agents::ContextPolicy::kTaskId) return 0;
  return static_cast<std::int64_t>(nm::memory_report(agent_->network()).context_bytes);
}

std::optional<double> RlLearner::gain() const {
  if (const auto* na = agent_->noradrenaline()) return static_cast<double>(na->gain());
  return std::nullopt;
}

}  // namespace locus::bench
