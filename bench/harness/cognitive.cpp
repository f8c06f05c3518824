#include "bench/harness/cognitive.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "bench/harness/errors.hpp"
#include "bench/harness/setting_reader.hpp"
#include "envs/cognitive/trial_dataset.hpp"
#include "neuromod/errors.hpp"

namespace locus::bench {

namespace {

using nlohmann::json;

// The settings of a cognitive run, with their defaults (the harness's four, then the learner's).
struct CognitiveSetting {
  const char* key;
  json default_value;
  const char* help;
};

const std::vector<CognitiveSetting>& cognitive_settings() {
  static const std::vector<CognitiveSetting> table = {
      {"iterations_per_task", 300, "training windows (optimizer steps) per task"},
      {"eval_every", 50, "evaluate every task seen so far every this many windows"},
      {"gap_epsilon", 0.02, "recovery band of the gap metrics"},
      {"gap_window", 5, "evaluations in the gap baseline and smoothing"},
      {"network", "modulated", "modulated (a context per task) | trainable (fine-tuned)"},
      {"recurrence", "gru", "elman | gru | lstm"},
      {"hidden", 64, "recurrent units"},
      {"alpha", 1.0, "elman: the leak dt / tau"},
      {"lr", 0.0, "Adam learning rate (0: 0.1 modulated, 0.01 trainable)"},
      {"batch_size", 16, "trial streams per window"},
      {"seq_len", 100, "steps per window (the BPTT window)"},
      {"separate", false, "a fresh network per task: each task trained alone"},
  };
  return table;
}

const json& setting(const json& settings, const char* key) {
  if (const auto it = settings.find(key); it != settings.end()) return *it;
  for (const auto& s : cognitive_settings()) {
    if (std::string_view(s.key) == key) return s.default_value;
  }
  throw InvalidArgumentError(fmt::format("internal: no cognitive setting '{}'", key));
}

std::int64_t whole_setting(const json& settings, const char* key, std::int64_t min,
                           std::int64_t max) {
  return setting_converter().in_range(
      key, setting_converter().convert<std::int64_t>(setting(settings, key), key), min, max);
}

double number_setting(const json& settings, const char* key, double min, double max) {
  return setting_converter().in_range(
      key, setting_converter().convert<double>(setting(settings, key), key), min, max);
}

std::string string_setting(const json& settings, const char* key) {
  return setting_converter().convert<std::string>(setting(settings, key), key);
}

bool bool_setting(const json& settings, const char* key) {
  return setting_converter().convert<bool>(setting(settings, key), key);
}

constexpr std::int64_t kMaxUnits = std::int64_t{1} << 16;
constexpr std::int64_t kMaxWindow = std::int64_t{1} << 16;

}  // namespace

// ---- scenario -------------------------------------------------------------------------------

void CognitiveScenario::validate() const {
  if (tasks.empty()) throw InvalidArgumentError("cognitive scenario 'tasks' lists no task");
  if (eval_trials < 1 || eval_trials > (std::int64_t{1} << 24)) {
    throw InvalidArgumentError(
        fmt::format("cognitive scenario 'eval_trials' {} must be in [1, 2^24]", eval_trials));
  }
}

CognitiveScenario CognitiveScenario::from_json(const json& j) {
  if (!j.is_object()) {
    throw InvalidArgumentError(
        fmt::format("the cognitive scenario must be a mapping, got {}", j.dump()));
  }
  CognitiveScenario s;
  for (const auto& [key, value] : j.items()) {
    if (key == "kind") {
      if (value != "cognitive") {
        throw InvalidArgumentError(
            fmt::format("cognitive scenario 'kind' must be cognitive, got {}", value.dump()));
      }
    } else if (key == "tasks") {
      s.tasks = task_list_from_json(value, "cognitive scenario");
    } else if (key == "rule_input") {
      if (!value.is_boolean()) {
        throw InvalidArgumentError(fmt::format(
            "cognitive scenario 'rule_input' must be true or false, got {}", value.dump()));
      }
      s.rule_input = value.get<bool>();
    } else if (key == "eval_trials" || key == "eval_seed") {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 0) {
        throw InvalidArgumentError(fmt::format(
            "cognitive scenario '{}' must be a non-negative integer, got {}", key, value.dump()));
      }
      if (key == "eval_trials") {
        s.eval_trials = value.get<std::int64_t>();
      } else {
        s.eval_seed = value.get<std::uint64_t>();
      }
    } else {
      throw InvalidArgumentError(fmt::format(
          "unknown cognitive scenario key '{}'; keys: kind, tasks, rule_input, eval_trials, "
          "eval_seed",
          key));
    }
  }
  s.validate();
  return s;
}

json CognitiveScenario::to_json() const {
  return {{"kind", "cognitive"},
          {"tasks", task_list_to_json(tasks)},
          {"rule_input", rule_input},
          {"eval_trials", eval_trials},
          {"eval_seed", eval_seed}};
}

// ---- settings -------------------------------------------------------------------------------

bool is_cognitive_setting(const std::string& key) {
  for (const auto& s : cognitive_settings()) {
    if (key == s.key) return true;
  }
  return false;
}

json with_cognitive_harness_defaults(json settings) {
  for (const char* key : {"iterations_per_task", "eval_every", "gap_epsilon", "gap_window"}) {
    if (!settings.contains(key)) settings[key] = setting(settings, key);
  }
  return settings;
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
  config.seed = seed;
  const std::string network = string_setting(settings, "network");
  if (network != "modulated" && network != "trainable") {
    throw InvalidArgumentError(
        fmt::format("setting 'network' is '{}'; allowed: modulated, trainable", network));
  }
  config.network.modulated = network == "modulated";
  try {
    config.network.recurrence =
        supervised::recurrence_from_name(string_setting(settings, "recurrence"));
  } catch (const neuromod::InvalidArgumentError& e) {
    throw InvalidArgumentError(fmt::format("setting 'recurrence': {}", e.what()));
  }
  config.network.hidden = std::size_t(whole_setting(settings, "hidden", 1, kMaxUnits));
  config.network.alpha = float(number_setting(settings, "alpha", 1e-6, 1.0));
  const double lr = number_setting(settings, "lr", 0.0, 1e3);
  if (lr > 0.0) config.learning_rate = float(lr);
  config.batch_size = std::size_t(whole_setting(settings, "batch_size", 1, kMaxWindow));
  config.seq_len = std::size_t(whole_setting(settings, "seq_len", 1, kMaxWindow));
  config.separate = bool_setting(settings, "separate");
  // The tasks exist and fit together: made once now, before any run starts.
  (void)CognitiveLearner(config);
  return config;
}

// ---- learner --------------------------------------------------------------------------------

CognitiveLearner::CognitiveLearner(const CognitiveConfig& config) : config_(config) {
  config_.scenario.validate();
  const std::size_t tasks = config_.scenario.tasks.size();
  const std::size_t rules = config_.scenario.rule_input ? tasks : 0;
  // The widths of every task, from a one-column dataset of each.
  for (const auto& task : config_.scenario.tasks) {
    try {
      envs::TrialDataset probe(
          {.env_id = task.id, .env_kwargs = task.kwargs, .batch_size = 1, .seq_len = 1});
      input_width_ = std::max(input_width_, probe.task_observation_size());
      num_actions_ = std::max(num_actions_, probe.num_actions());
    } catch (const envs::Error& e) {
      throw InvalidArgumentError(fmt::format("cognitive scenario task {}: {}", task.id, e.what()));
    }
  }
  for (std::size_t k = 0; k < tasks; ++k) {
    const auto& task = config_.scenario.tasks[k];
    const envs::TrialDatasetConfig data{.env_id = task.id,
                                        .env_kwargs = task.kwargs,
                                        .batch_size = config_.batch_size,
                                        .seq_len = config_.seq_len,
                                        .seed = config_.seed + k,
                                        .input_width = input_width_,
                                        .rule_count = rules,
                                        .rule = k};
    streams_.emplace_back(data, /*reset_at_trial_start=*/false);
    supervised::TrialEvaluation evaluation;
    evaluation.env_id = task.id;
    evaluation.env_kwargs = task.kwargs;
    evaluation.trials = std::size_t(config_.scenario.eval_trials);
    evaluation.seed = config_.scenario.eval_seed + k;
    evaluation.input_width = input_width_;
    evaluation.rule_count = rules;
    evaluation.rule = k;
    evaluation.validate();
    evaluations_.push_back(std::move(evaluation));
  }
  network_ = make_fresh_network();
}

CognitiveLearner::~CognitiveLearner() = default;

std::unique_ptr<neuromod::Network> CognitiveLearner::make_fresh_network() const {
  const std::size_t rules = config_.scenario.rule_input ? config_.scenario.tasks.size() : 0;
  auto network = neuromod::make_network(supervised::trial_network_spec(
      config_.network, input_width_ + rules, num_actions_, config_.seed));
  neuromod::OptimizerConfig optimizer =
      supervised::default_trial_optimizer(config_.network.modulated);
  if (config_.learning_rate) optimizer.learning_rate = *config_.learning_rate;
  network->set_optimizer(optimizer);
  if (config_.network.modulated) {
    // One context per task, made now so that an unseen task is scored with its untrained context.
    network->set_gradient_mode(neuromod::GradientMode::kContextOnly);
    while (network->context_count() < config_.scenario.tasks.size()) network->add_context();
  }
  return network;
}

neuromod::ContextId CognitiveLearner::context_of(std::int64_t task) const {
  return config_.network.modulated ? neuromod::ContextId(task) : 0;
}

std::int64_t CognitiveLearner::num_tasks() const {
  return std::int64_t(config_.scenario.tasks.size());
}

void CognitiveLearner::begin_task(std::int64_t task) {
  if (task < 0 || task >= num_tasks()) {
    throw InvalidArgumentError(fmt::format("task {} is out of range; the sequence has tasks 0..{}",
                                           task, num_tasks() - 1));
  }
  if (config_.separate && task_ >= 0) network_ = make_fresh_network();
  // A finished task's context never changes again.
  if (config_.network.modulated && task_ >= 0) network_->set_frozen(context_of(task_), true);
  task_ = task;
}

TrainStep CognitiveLearner::train_step() {
  if (task_ < 0) throw InvalidArgumentError("train_step before begin_task");
  const supervised::WindowResult window =
      streams_[std::size_t(task_)].train_window(*network_, context_of(task_));
  return {window.loss, std::int64_t(config_.batch_size * config_.seq_len)};
}

double CognitiveLearner::evaluate(std::int64_t task) {
  if (task < 0 || task >= num_tasks()) {
    throw InvalidArgumentError(fmt::format("task {} is out of range; the sequence has tasks 0..{}",
                                           task, num_tasks() - 1));
  }
  return supervised::evaluate_trials(*network_, context_of(task), evaluations_[std::size_t(task)])
      .accuracy;
}

std::int64_t CognitiveLearner::parameter_count() const {
  std::int64_t count = 0;
  for (const auto& info : network_->parameters()) {
    if (info.trainable) count += std::int64_t(info.size());
  }
  return count;
}

std::int64_t CognitiveLearner::bytes_per_task() const {
  if (!config_.network.modulated) return 0;
  std::int64_t bytes = 0;
  for (const auto& info : network_->parameters()) {
    if (info.context == 0) bytes += std::int64_t(info.size() * sizeof(float));
  }
  return bytes;
}

}  // namespace locus::bench
