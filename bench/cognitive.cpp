#include "bench/cognitive.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

#include "bench/errors.hpp"
#include "envs/errors.hpp"
#include "neuromod/errors.hpp"
#include "neuromod/spec.hpp"
#include "supervised/trial_trainer.hpp"

namespace locus::bench {

using json = nlohmann::json;

namespace {

// The harness's keys (read by schedule_from_settings and the metrics) and the learner's own.
struct CognitiveSetting {
  const char* key;
  json default_value;
  const char* help;
};

const std::vector<CognitiveSetting>& cognitive_settings() {
  static const std::vector<CognitiveSetting> table = {
      {"iterations_per_task", 100, "training windows (optimizer steps) per task"},
      {"eval_every", 10, "evaluate every task seen so far every this many windows"},
      {"gap_epsilon", 0.02, "recovery band of the gap metrics"},
      {"gap_window", 5, "evaluations in the gap baseline and smoothing"},
      {"network", "modulated", "modulated (one context per task) or trainable (fine-tuned)"},
      {"recurrence", "gru", "elman, gru or lstm"},
      {"hidden", 64, "recurrent units"},
      {"batch_size", 16, "trial streams per window"},
      {"seq_len", 100, "steps per window (the BPTT window)"},
      {"learning_rate", 0.0, "Adam's rate; 0: 0.01 trainable, 0.1 modulated"},
      {"reset_at_trial_start", false, "zero the state at each trial's first step"},
  };
  return table;
}

// JSON and YAML integers may be held signed: an unsigned read of a negative one would wrap.
bool non_negative_integer(const json& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0);
}

const json& setting(const json& settings, const char* key) {
  if (const auto it = settings.find(key); it != settings.end()) return *it;
  for (const auto& s : cognitive_settings()) {
    if (std::string_view(s.key) == key) return s.default_value;
  }
  throw InvalidArgumentError(fmt::format("no cognitive setting '{}'", key));
}

std::size_t positive(const json& settings, const char* key, std::size_t max) {
  const json& v = setting(settings, key);
  if (!non_negative_integer(v) || v.get<std::uint64_t>() < 1 || v.get<std::uint64_t>() > max) {
    throw InvalidArgumentError(
        fmt::format("setting '{}' must be an integer from 1 to {}, got {}", key, max, v.dump()));
  }
  return v.get<std::size_t>();
}

std::string text(const json& settings, const char* key) {
  const json& v = setting(settings, key);
  if (!v.is_string()) {
    throw InvalidArgumentError(fmt::format("setting '{}' must be a string, got {}", key, v.dump()));
  }
  return v.get<std::string>();
}

CognitiveTask task_from_json(const json& value) {
  if (value.is_string()) return {value.get<std::string>()};
  if (value.is_object() && value.contains("id") && value["id"].is_string()) {
    CognitiveTask task{value["id"].get<std::string>()};
    for (const auto& [key, v] : value.items()) {
      if (key == "kwargs" && v.is_object()) {
        task.kwargs = v;
      } else if (key != "id") {
        throw InvalidArgumentError(fmt::format(
            "cognitive scenario task {}: keys are id and kwargs (a mapping)", value.dump()));
      }
    }
    return task;
  }
  throw InvalidArgumentError(fmt::format(
      "cognitive scenario tasks are \"Id-vN\" or {{id, kwargs}}, got {}", value.dump()));
}

}  // namespace

// ---- scenario -------------------------------------------------------------------------------

void CognitiveScenario::validate() const {
  if (tasks.empty()) throw InvalidArgumentError("cognitive scenario 'tasks' lists no task");
  if (eval_trials < 1 || eval_trials > 1'000'000) {
    throw InvalidArgumentError(fmt::format(
        "cognitive scenario 'eval_trials' must be from 1 to 1000000, got {}", eval_trials));
  }
}

CognitiveScenario CognitiveScenario::from_json(const json& value) {
  if (!value.is_object() || value.value("kind", json()) != "cognitive") {
    throw InvalidArgumentError(fmt::format(
        "a cognitive scenario is a mapping with kind: cognitive, got {}", value.dump()));
  }
  CognitiveScenario s;
  for (const auto& [key, v] : value.items()) {
    if (key == "kind") continue;
    if (key == "tasks") {
      if (!v.is_array()) {
        throw InvalidArgumentError("cognitive scenario 'tasks' must be a list of tasks");
      }
      for (const auto& task : v) s.tasks.push_back(task_from_json(task));
    } else if (key == "eval_trials" || key == "eval_seed") {
      if (!non_negative_integer(v)) {
        throw InvalidArgumentError(fmt::format(
            "cognitive scenario '{}' must be a non-negative integer, got {}", key, v.dump()));
      }
      if (key == "eval_trials") {
        s.eval_trials = static_cast<std::int64_t>(
            std::min<std::uint64_t>(v.get<std::uint64_t>(), std::uint64_t{1} << 40));
      } else {
        s.eval_seed = v.get<std::uint64_t>();
      }
    } else {
      throw InvalidArgumentError(fmt::format(
          "unknown cognitive scenario key '{}'; keys: kind, tasks, eval_trials, eval_seed", key));
    }
  }
  s.validate();
  return s;
}

json CognitiveScenario::to_json() const {
  json task_list = json::array();
  for (const auto& t : tasks) task_list.push_back({{"id", t.id}, {"kwargs", t.kwargs}});
  return {{"kind", "cognitive"},
          {"tasks", task_list},
          {"eval_trials", eval_trials},
          {"eval_seed", eval_seed}};
}

// ---- settings -------------------------------------------------------------------------------

bool is_cognitive_setting(const std::string& key) {
  const auto& table = cognitive_settings();
  return std::any_of(table.begin(), table.end(), [&](const auto& s) { return key == s.key; });
}

std::string cognitive_setting_names() {
  std::string out;
  for (const auto& s : cognitive_settings()) out += (out.empty() ? "" : ", ") + std::string(s.key);
  return out;
}

std::string cognitive_settings_help() {
  std::string out;
  for (const auto& s : cognitive_settings()) {
    out += fmt::format("  {:<20} {:<18} {}\n", s.key, s.default_value.dump(), s.help);
  }
  return out;
}

CognitiveConfig cognitive_config(const json& scenario, const json& settings, std::uint64_t seed) {
  if (!settings.is_object()) throw InvalidArgumentError("run settings must be a mapping");
  for (const auto& [key, value] : settings.items()) {
    if (!is_cognitive_setting(key)) {
      throw InvalidArgumentError(fmt::format(
          "unknown setting '{}' for a cognitive run (scenario kind cognitive); settings: {}", key,
          cognitive_setting_names()));
    }
  }
  CognitiveConfig config;
  config.scenario = CognitiveScenario::from_json(scenario);
  const std::string network = text(settings, "network");
  if (network != "modulated" && network != "trainable") {
    throw InvalidArgumentError(
        fmt::format("setting 'network' must be modulated or trainable, got '{}'", network));
  }
  config.modulated = network == "modulated";
  try {
    config.recurrence = supervised::recurrence_from_name(text(settings, "recurrence"));
  } catch (const neuromod::InvalidArgumentError& e) {
    throw InvalidArgumentError(fmt::format("setting 'recurrence': {}", e.what()));
  }
  config.hidden = positive(settings, "hidden", neuromod::kMaxUnits);
  config.batch_size = positive(settings, "batch_size", 1 << 16);
  config.seq_len = positive(settings, "seq_len", 1 << 20);
  const json& rate = setting(settings, "learning_rate");
  if (!rate.is_number() || !std::isfinite(rate.get<double>()) || rate.get<double>() < 0 ||
      rate.get<double>() > 10.0) {
    throw InvalidArgumentError(
        fmt::format("setting 'learning_rate' must be a number from 0 (the default) to 10, got {}",
                    rate.dump()));
  }
  if (rate.get<double>() > 0) config.learning_rate = rate.get<float>();
  const json& reset = setting(settings, "reset_at_trial_start");
  if (!reset.is_boolean()) {
    throw InvalidArgumentError(
        fmt::format("setting 'reset_at_trial_start' must be true or false, got {}", reset.dump()));
  }
  config.reset_at_trial_start = reset.get<bool>();
  config.seed = seed;
  return config;
}

// ---- learner --------------------------------------------------------------------------------

CognitiveLearner::CognitiveLearner(const CognitiveConfig& config) : config_(config) {
  config_.scenario.validate();
  std::size_t inputs = 0, actions = 0;
  for (const CognitiveTask& task : config_.scenario.tasks) {
    try {
      streams_.emplace_back(envs::TrialDatasetConfig{.env_id = task.id,
                                                     .env_kwargs = task.kwargs,
                                                     .batch_size = config_.batch_size,
                                                     .seq_len = config_.seq_len,
                                                     .seed = config_.seed},
                            config_.reset_at_trial_start);
    } catch (const envs::Error& e) {
      throw InvalidArgumentError(fmt::format("cognitive scenario task {}: {}", task.id, e.what()));
    }
    inputs = std::max(inputs, streams_.back().dataset().observation_size());
    actions = std::max(actions, streams_.back().dataset().num_actions());
  }
  network_ = neuromod::make_network(neuromod::recurrent_network(
      config_.recurrence, inputs, config_.hidden, actions, config_.seed, config_.modulated));
  if (config_.modulated) {
    // Context k belongs to task k; each starts from the seed and its id, so what task k learns
    // does not depend on the tasks before it.
    while (network_->context_count() < streams_.size()) network_->add_context();
    network_->set_gradient_mode(neuromod::GradientMode::kContextOnly);
  } else {
    network_->set_gradient_mode(neuromod::GradientMode::kAllTrainable);
  }
  neuromod::OptimizerConfig optimizer = supervised::default_trial_optimizer(config_.modulated);
  if (config_.learning_rate) optimizer.learning_rate = *config_.learning_rate;
  network_->set_optimizer(optimizer);
}

std::int64_t CognitiveLearner::num_tasks() const {
  return static_cast<std::int64_t>(streams_.size());
}

neuromod::ContextId CognitiveLearner::context_of(std::int64_t task) const {
  return config_.modulated ? static_cast<neuromod::ContextId>(task) : 0;
}

void CognitiveLearner::begin_task(std::int64_t task) {
  task_ = task;
}

TrainStep CognitiveLearner::train_step() {
  auto& stream = streams_[static_cast<std::size_t>(task_)];
  const supervised::WindowResult window = stream.train_window(*network_, context_of(task_));
  return {window.loss, static_cast<std::int64_t>(config_.batch_size * config_.seq_len)};
}

double CognitiveLearner::evaluate(std::int64_t task) {
  const CognitiveTask& t = config_.scenario.tasks[static_cast<std::size_t>(task)];
  const supervised::TrialEvaluation evaluation{
      .env_id = t.id,
      .env_kwargs = t.kwargs,
      .trials = static_cast<std::size_t>(config_.scenario.eval_trials),
      .batch_size =
          std::min<std::size_t>(50, static_cast<std::size_t>(config_.scenario.eval_trials)),
      .seq_len = config_.seq_len,
      .seed = config_.scenario.eval_seed,
      .reset_at_trial_start = config_.reset_at_trial_start};
  return supervised::evaluate_trials(*network_, context_of(task), evaluation).accuracy;
}

std::int64_t CognitiveLearner::parameter_count() const {
  std::int64_t count = 0;
  for (const auto& parameter : network_->parameters()) {
    if (parameter.trainable) count += static_cast<std::int64_t>(parameter.size());
  }
  return count;
}

std::int64_t CognitiveLearner::bytes_per_task() const {
  return config_.modulated ? static_cast<std::int64_t>(memory_report(*network_).context_bytes) : 0;
}

}  // namespace locus::bench
