#include "bench/harness/rl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "agents/errors.hpp"
#include "bench/harness/errors.hpp"
#include "config/reader.hpp"
#include "envs/errors.hpp"
#include "envs/registry.hpp"
#include "envs/sequences/task_switch.hpp"
#include "envs/vector_env.hpp"
#include "util/hash.hpp"

namespace locus::bench {

namespace {

using nlohmann::json;
namespace nm = locus::neuromod;
using envs::kTaskSwitchId;

// The continual methods' draws (their reservoirs) come from a stream of their own, apart from the
// agent's.
constexpr std::uint64_t kContinualSeedStream = 0x636c;

envs::TaskSwitchEnv& switch_env(envs::Env& env) {
  auto* switching = dynamic_cast<envs::TaskSwitchEnv*>(&env.unwrapped());
  if (switching == nullptr) {
    throw InvalidArgumentError(
        fmt::format("the agent's env is {}, not {}", env.to_string(), kTaskSwitchId));
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

// The continual methods' settings (rl_continual.hpp), read into RlContinualConfig.
const std::vector<HarnessSetting>& continual_settings() {
  const RlContinualConfig d;
  static const std::vector<HarnessSetting> table = {
      {"ewc_lambda", d.ewc.lambda, "EWC's penalty weight on the policy's Fisher (0: off)"},
      {"ewc_online", d.ewc.online, "online EWC: one running Fisher instead of one per task"},
      {"ewc_gamma", d.ewc.gamma, "online EWC: decay of the earlier Fisher"},
      {"ewc_samples", d.ewc_samples, "states per task the Fisher is averaged over"},
      {"replay_memory", d.replay_memory, "behaviour-cloning replay memory in states (0: off)"},
      {"replay_batch", d.replay_batch, "replayed states per minibatch"},
      {"replay_kl_weight", d.replay_kl_weight, "weight of KL(stored policy || policy)"},
      {"replay_value_weight", d.replay_value_weight, "weight of (value - stored value)^2"},
  };
  return table;
}

bool is_continual_key(const std::string& key) {
  const auto& table = continual_settings();
  return std::any_of(table.begin(), table.end(), [&](const auto& s) { return key == s.key; });
}

RlContinualConfig read_continual(const json& settings) {
  json chosen = json::object();
  for (const auto& s : continual_settings()) {
    if (settings.contains(s.key)) chosen[s.key] = settings[s.key];
  }
  config::Reader reader(chosen, "RL run settings",
                        {.raise = &config::raise_as<InvalidArgumentError>});
  RlContinualConfig c;
  c.ewc.lambda = reader.get<double>("ewc_lambda", c.ewc.lambda);
  c.ewc.online = reader.get<bool>("ewc_online", c.ewc.online);
  c.ewc.gamma = reader.get<double>("ewc_gamma", c.ewc.gamma);
  c.ewc_samples = reader.get_in<std::int64_t>("ewc_samples", c.ewc_samples, 1, INT64_MAX);
  c.replay_memory = reader.get_in<std::int64_t>("replay_memory", c.replay_memory, 0, INT64_MAX);
  c.replay_batch = reader.get_in<std::int64_t>("replay_batch", c.replay_batch, 1, INT64_MAX);
  c.replay_kl_weight = reader.get<double>("replay_kl_weight", c.replay_kl_weight);
  c.replay_value_weight = reader.get<double>("replay_value_weight", c.replay_value_weight);
  reader.finish();
  c.validate();
  return c;
}

// EWC and replay keep one set of shared weights and replay single observations: they need an
// ordinary feed-forward network with one context.
void check_continual_fits(const RlContinualConfig& c, const agents::AgentConfig& agent) {
  if (!c.enabled()) return;
  const std::string methods =
      c.ewc_on()
          ? fmt::format("ewc_lambda {}{}", c.ewc.lambda,
                        c.replay_on() ? fmt::format(" and replay_memory {}", c.replay_memory) : "")
          : fmt::format("replay_memory {}", c.replay_memory);
  const std::string off = "or set ewc_lambda: 0 and replay_memory: 0";
  if (agent.network != agents::NetworkMode::kTrainable) {
    throw InvalidArgumentError(fmt::format(
        "{} needs network: trainable, got network: {}: the modulated network's shared weights are "
        "fixed random ones, so there is nothing to protect or distill into (its per-task contexts, "
        "contexts: task_id, keep each task instead); set network: trainable, {}",
        methods, agents::to_string(agent.network), off));
  }
  if (agent.policy != agents::PolicyType::kMlp) {
    throw InvalidArgumentError(fmt::format(
        "{} needs policy: mlp, got policy: {}: a stored observation carries no recurrent state to "
        "take the Fisher on or to replay; set policy: mlp (frame_stack gives it a history), {}",
        methods, agents::to_string(agent.policy), off));
  }
  if (agent.contexts != agents::ContextPolicy::kFixed) {
    throw InvalidArgumentError(fmt::format(
        "{} needs contexts: fixed, got contexts: {}: the penalty and the replayed targets belong "
        "to one context of shared weights; set contexts: fixed, {}",
        methods, agents::to_string(agent.contexts), off));
  }
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
  config::Reader reader(j, "RL scenario", {.raise = &config::raise_as<InvalidArgumentError>});
  RlScenario s;
  (void)reader.get_choice("kind", "rl", {"rl"});
  if (const json* tasks = reader.get_raw("tasks"))
    s.tasks = task_list_from_json(*tasks, "RL scenario");
  if (const json* kwargs = reader.get_object("env_kwargs")) s.env_kwargs = *kwargs;
  s.task_input = reader.get<bool>("task_input", s.task_input);
  s.score =
      rl_score_from_name(reader.get<std::string>("score", std::string(rl_score_name(s.score))));
  s.return_scale = reader.get<double>("return_scale", s.return_scale);
  s.eval_episodes = reader.get_in<std::int64_t>("eval_episodes", s.eval_episodes, 0, INT64_MAX);
  s.eval_seed = reader.get<std::uint64_t>("eval_seed", s.eval_seed);
  reader.finish();
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
  return is_continual_key(key) || is_agent_key(key);
}

std::string rl_setting_names() {
  std::string out;
  for (const auto& s : harness_settings()) out += (out.empty() ? "" : ", ") + std::string(s.key);
  for (const auto& s : continual_settings()) out += ", " + std::string(s.key);
  for (const auto& key : agents::AgentConfig::keys()) {
    if (is_agent_key(key)) out += ", " + key;
  }
  return out;
}

std::string rl_settings_help() {
  std::string out;
  for (const auto* table : {&harness_settings(), &continual_settings()}) {
    for (const auto& s : *table) {
      out += fmt::format("  {:<20} {:<18} {}\n", s.key, s.default_value.dump(), s.help);
    }
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
    config.agent.env = kTaskSwitchId;
    config.agent.env_kwargs = switch_kwargs(config.scenario, 0);
    config.agent.validate();
  } catch (const agents::ConfigError& e) {
    throw InvalidArgumentError(e.what());
  }
  config.continual = read_continual(settings);
  check_continual_fits(config.continual, config.agent);
  // The tasks exist, take their kwargs and fit together (spaces): checked before any run starts.
  try {
    (void)envs::make(kTaskSwitchId, config.agent.env_kwargs);
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

  // The frame stack as the agent builds it: zeros after a reset, the newest frame last.
  void push(std::size_t i, bool reset) {
    const std::size_t dim = observation_dim, input = dim * frame_stack;
    float* row = history.data() + i * input;
    if (reset) {
      std::fill(row, row + input, 0.0f);
    } else {
      std::memmove(row, row + dim, (input - dim) * sizeof(float));
    }
    const auto obs = env.observation_bytes(i);
    std::memcpy(row + input - dim, obs.data(), dim * sizeof(float));
  }
};

namespace {

// The greedy action of every episode from the policy's output: the arg-max (discrete) or the mean
// clipped to the action space's bounds (continuous), stepped in `env`.
void step_greedy(envs::VectorEnv& env, const nm::Matrix& out, bool discrete_policy,
                 std::vector<std::int64_t>& discrete, std::vector<float>& continuous) {
  const std::size_t episodes = env.num_envs();
  if (discrete_policy) {
    const auto& space = static_cast<const envs::Discrete&>(env.single_action_space());
    for (std::size_t i = 0; i < episodes; ++i) {
      std::size_t best = 0;
      for (std::size_t a = 1; a < out.shape(1); ++a) {
        if (out(i, a) > out(i, best)) best = a;
      }
      discrete[i] = static_cast<std::int64_t>(best) + space.start();
    }
    env.step(std::span<const std::int64_t>(discrete));
    return;
  }
  const auto& box = static_cast<const envs::Box&>(env.single_action_space());
  const std::size_t action_dim = box.low().size();
  for (std::size_t i = 0; i < episodes; ++i) {
    for (std::size_t a = 0; a < action_dim; ++a) {
      continuous[i * action_dim + a] =
          static_cast<float>(std::clamp<double>(out(i, a), box.low()[a], box.high()[a]));
    }
  }
  env.step(std::span<const float>(continuous));
}

// Episode returns and trial outcomes (info "correct" when "trial_ended") of an evaluation.
struct EvaluationTally {
  std::vector<double> returns;
  std::vector<char> done;
  std::size_t remaining = 0, trials = 0, correct = 0;

  explicit EvaluationTally(std::size_t episodes)
      : returns(episodes, 0.0), done(episodes, 0), remaining(episodes) {}

  // Counts the last step of episode i; false once it has ended.
  bool add(const envs::VectorEnv& env, std::size_t i) {
    returns[i] += env.rewards()[i];
    const envs::Info& info = env.info(i);
    const auto* ended = info.find("trial_ended");
    if (ended != nullptr && std::holds_alternative<bool>(*ended) && std::get<bool>(*ended)) {
      if (const auto* c = info.find("correct"); c != nullptr && std::holds_alternative<bool>(*c)) {
        trials += 1;
        correct += std::get<bool>(*c) ? 1 : 0;
      }
    }
    if (env.terminations()[i] || env.truncations()[i]) {
      done[i] = 1;
      remaining -= 1;
      return false;
    }
    return true;
  }
};

// The evaluation's score: the share of correct trials (success) or the scaled mean return.
double score(const RlScenario& scenario, const EvaluationTally& tally, std::int64_t task) {
  const std::size_t episodes = tally.returns.size();
  if (scenario.score == RlScore::kSuccess) {
    if (tally.trials == 0) {
      throw InvalidArgumentError(fmt::format(
          "score success needs trials (info 'correct' at trial ends); task {} ({}) had none in {} "
          "episodes; use score: return",
          task, scenario.tasks[static_cast<std::size_t>(task)].id, episodes));
    }
    return static_cast<double>(tally.correct) / static_cast<double>(tally.trials);
  }
  double sum = 0.0;
  for (const double r : tally.returns) sum += r;
  return sum / static_cast<double>(episodes) / scenario.return_scale;
}

}  // namespace

RlLearner::RlLearner(const RlConfig& config) : config_(config) {
  config_.scenario.validate();
  config_.agent.env = kTaskSwitchId;
  config_.agent.env_kwargs = switch_kwargs(config_.scenario, 0);
  try {
    agent_ = std::make_unique<agents::Agent>(config_.agent);
  } catch (const envs::InvalidArgumentError& e) {
    throw InvalidArgumentError(e.what());
  }
  task_contexts_.assign(config_.scenario.tasks.size(), std::nullopt);
  evaluators_.resize(config_.scenario.tasks.size());
  check_continual_fits(config_.continual, config_.agent);
  if (config_.continual.enabled()) {
    continual_ = std::make_unique<RlContinualMethods>(
        config_.continual, util::mix_seed(config_.agent.seed, kContinualSeedStream));
    agent_->set_gradient_hook(
        [methods = continual_.get(), agent = agent_.get()](nm::Network& network) {
          methods->add_gradients(network, {agent->log_std()});
        });
  }
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
  if (continual_ && task_ >= 0) {
    continual_->end_task(agent_->network(), {agent_->log_std()}, task_);
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
  if (continual_) continual_->observe(agent_->rollout_inputs());
  return {stats.loss,
          static_cast<std::int64_t>(config_.agent.rollout_steps * config_.agent.num_envs)};
}

nm::ContextId RlLearner::evaluation_context(std::int64_t task) const {
  const auto& context = task_contexts_[static_cast<std::size_t>(task)];
  return context ? *context : agent_->network().selected_context();
}

RlLearner::Evaluator& RlLearner::evaluator(std::int64_t task) {
  auto& slot = evaluators_[static_cast<std::size_t>(task)];
  if (!slot) {
    const auto episodes = static_cast<std::size_t>(config_.scenario.eval_episodes);
    envs::VectorEnvOptions options;
    // Each env plays exactly one episode, so no episode is counted because it happened to be
    // short: an env that ended is reset by the next step and ignored from then on.
    options.autoreset_mode = envs::AutoresetMode::kNextStep;
    options.num_threads = 1;
    slot = std::make_unique<Evaluator>(Evaluator{
        envs::make_vec(kTaskSwitchId, episodes, switch_kwargs(config_.scenario, task), options)});
    slot->observation_dim = slot->env.single_observation_space().packed_bytes() / sizeof(float);
    slot->frame_stack = config_.agent.frame_stack;
    slot->history.assign(episodes * slot->observation_dim * slot->frame_stack, 0.0f);
  }
  return *slot;
}

double RlLearner::evaluate(std::int64_t task) {
  if (task < 0 || task >= num_tasks()) {
    throw InvalidArgumentError(fmt::format("task {} is out of range; the sequence has tasks 0..{}",
                                           task, num_tasks() - 1));
  }
  Evaluator& ev = evaluator(task);
  const auto episodes = static_cast<std::size_t>(config_.scenario.eval_episodes);
  const std::string& id = config_.scenario.tasks[static_cast<std::size_t>(task)].id;
  ev.env.reset(config_.scenario.eval_seed);
  for (std::size_t i = 0; i < episodes; ++i) ev.push(i, true);

  nm::Network& network = agent_->network();
  const std::vector<nm::ContextId> contexts(episodes, evaluation_context(task));
  const std::size_t action_dim =
      agent_->discrete() ? 0
                         : static_cast<const envs::Box&>(ev.env.single_action_space()).low().size();
  std::vector<std::int64_t> discrete_actions(episodes, 0);
  std::vector<float> continuous_actions(episodes * action_dim, 0.0f);
  EvaluationTally tally(episodes);
  nm::Matrix batch({episodes, ev.observation_dim * ev.frame_stack});
  constexpr std::size_t kMaxSteps = 100000;
  for (std::size_t step = 0; tally.remaining > 0; ++step) {
    if (step == kMaxSteps) {
      throw InvalidArgumentError(fmt::format(
          "evaluating task {} ({}): episodes still running after {} steps; give the task a time "
          "limit or trials_per_episode",
          task, id, kMaxSteps));
    }
    std::copy(ev.history.begin(), ev.history.end(), batch.data());
    step_greedy(ev.env, network.forward(batch, contexts)[0], agent_->discrete(), discrete_actions,
                continuous_actions);
    for (std::size_t i = 0; i < episodes; ++i) {
      if (!tally.done[i] && tally.add(ev.env, i)) ev.push(i, false);
    }
  }
  return score(config_.scenario, tally, task);
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
  if (continual_) return continual_->bytes() / num_tasks();
  if (config_.agent.contexts != agents::ContextPolicy::kTaskId) return 0;
  return static_cast<std::int64_t>(nm::memory_report(agent_->network()).context_bytes);
}

std::optional<double> RlLearner::gain() const {
  if (const auto* na = agent_->noradrenaline()) return static_cast<double>(na->gain());
  return std::nullopt;
}

}  // namespace locus::bench
