#include "agents/agent.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "agents/errors.hpp"
#include "agents/losses.hpp"
#include "agents/policy/policy_network.hpp"
#include "envs/registry.hpp"
#include "neuromod/errors.hpp"
#include "util/hash.hpp"

namespace locus::agents {

namespace {

constexpr std::size_t kRecentWindow = 100;

envs::VectorEnv make_env(const AgentConfig& config, std::size_t num_envs) {
  envs::VectorEnvOptions options;
  options.autoreset_mode = envs::AutoresetMode::kSameStep;
  options.num_threads = 1;  // parallelism comes from running agents side by side
  return envs::make_vec(config.env, num_envs, config.env_kwargs, options);
}

const envs::Info& step_info(const envs::VectorEnv& env, std::size_t i) {
  return env.has_final(i) ? env.final_info(i) : env.info(i);
}

bool bool_info(const envs::Info& info, std::string_view key) {
  const auto* value = info.find(key);
  return value != nullptr && std::holds_alternative<bool>(*value) && std::get<bool>(*value);
}

std::optional<std::int64_t> int_info(const envs::Info& info, std::string_view key) {
  const auto* value = info.find(key);
  if (value == nullptr || !std::holds_alternative<std::int64_t>(*value)) return std::nullopt;
  return std::get<std::int64_t>(*value);
}

void check_finite(double value, std::string_view what, std::size_t update) {
  if (!std::isfinite(value)) {
    throw TrainingError(
        fmt::format("non-finite {} ({}) at update {}; lower learning_rate or "
                    "set max_grad_norm",
                    what, value, update));
  }
}

std::span<const float> row_of(const Matrix& m, std::size_t row) {
  return {m.data() + row * m.shape()[1], m.shape()[1]};
}

std::span<float> row_of(Matrix& m, std::size_t row) {
  return {m.data() + row * m.shape()[1], m.shape()[1]};
}

}  // namespace

// The transitions of one update, time-major (row t * num_envs + e).
struct Agent::Rollout {
  std::size_t steps = 0, envs = 0;
  Matrix inputs;                     // (T*N, input_dim)
  Matrix actions;                    // (T*N, action_width) as the head stores them
  std::vector<std::uint8_t> starts;  // (T*N) the row's observation begins an episode
  RecurrentState initial_state;      // the body's state of every env before step 0
  std::vector<float> log_probs, values, next_values, rewards, advantages, returns, deltas;
  std::vector<std::uint8_t> terminated, truncated;
  std::vector<double> step_entropy;     // (T) mean policy entropy of each step
  std::vector<std::size_t> trace_rows;  // rows of the traced transitions
  std::vector<DopamineSample> trace;
};

struct Agent::Loss {
  double total = 0, policy = 0, value = 0, entropy = 0, approx_kl = 0, clip_fraction = 0;
};

Agent::Agent(const AgentConfig& config)
    : config_(config),
      env_(make_env(config, config.num_envs)),
      encoder_(env_.single_observation_space(), config.frame_stack, config.env),
      head_(make_action_head(env_, config.env, config.init_log_std)),
      dopamine_(neuromod::DopamineConfig{
          .gamma = config.gamma,
          .lambda = config.agent == Algorithm::kReinforce ? 1.0f : config.gae_lambda,
          .record_trace = true,
          .trace_capacity = 0}),
      random_(util::mix_seed(config.seed, 7)) {
  config_.validate();
  // Now that the env's sizes are known, before the network and the rollout are allocated.
  config_.check_memory(encoder_.observation_dim(), head_->units());
  optimizer_.kind = neuromod::optimizer_kind_from_string(config_.optimizer);
  optimizer_.learning_rate = config_.learning_rate;
  optimizer_.clip_grad_norm = config_.max_grad_norm;
  if (optimizer_.kind == neuromod::OptimizerKind::kAdam ||
      optimizer_.kind == neuromod::OptimizerKind::kRmsprop) {
    optimizer_.epsilon = 1e-5f;  // SB3's and the A2C paper's
  }
  network_ = make_policy_network(config_, encoder_.input_dim(), head_->units(),
                                 util::mix_seed(config_.seed, 1));
  network_->set_optimizer(optimizer_);
  body_ = make_policy_body(*network_);
  if (config_.modulation == Modulation::kDopamineNoradrenaline) {
    noradrenaline_.emplace(noradrenaline_config());
    noradrenaline_->apply(*network_);
  }
  const std::size_t n = config_.num_envs;
  running_.inputs.assign(n * encoder_.input_dim(), 0.0f);
  running_.returns.assign(n, 0.0);
  running_.lengths.assign(n, 0);
  running_.step_in_trial.assign(n, 0);
  running_.ground_truth.assign(n, -1);
  rollout_ = std::make_unique<Rollout>();
  begin_segment();
}

Agent::~Agent() = default;
Agent::Agent(Agent&&) noexcept = default;
Agent& Agent::operator=(Agent&&) noexcept = default;

std::vector<float> Agent::log_std() const {
  for (const auto& parameter : head_->parameters()) {
    if (parameter.name == "log_std") return {parameter.value.begin(), parameter.value.end()};
  }
  return {};
}

bool Agent::saves_episodes() const {
  return env_.supports_state();
}

neuromod::NoradrenalineConfig Agent::noradrenaline_config() const {
  neuromod::NoradrenalineConfig na;
  na.source = config_.na_source == "entropy" ? neuromod::UncertaintySource::kEntropy
                                             : neuromod::UncertaintySource::kSurprise;
  na.sensitivity = config_.na_sensitivity;
  na.change_threshold = config_.na_change_threshold;
  na.refractory = config_.na_refractory;
  na.stats_rate = config_.na_stats_rate;
  // The gain sharpens or flattens the policy: it scales the policy head only, so the critic's
  // values stay in reward units.
  na.target.placement = neuromod::GainPlacement::kSelectedLayers;
  na.target.layers = {config_.hidden.size() + 0};
  na.record_trace = false;  // the agent keeps its own gain trace
  return na;
}

void Agent::begin_segment() {
  env_.reset(util::mix_seed(config_.seed, 1000 + updates_));
  const std::size_t n = config_.num_envs;
  running_.state = body_->initial_state(n);
  running_.starts.assign(n, 1);
  for (std::size_t i = 0; i < n; ++i) {
    encoder_.push(running_.inputs, i, env_.observation_bytes(i), true);
    running_.returns[i] = 0.0;
    running_.lengths[i] = 0;
    running_.step_in_trial[i] = 0;
    running_.ground_truth[i] = int_info(env_.info(i), "ground_truth").value_or(-1);
  }
}

void Agent::select_task(std::int64_t task_id) {
  auto found = task_contexts_.find(task_id);
  if (found == task_contexts_.end()) {
    // The first task keeps the initial context; a later one starts as a copy of the current.
    const ContextId context = task_contexts_.empty()
                                  ? network_->selected_context()
                                  : network_->clone_context(network_->selected_context());
    found = task_contexts_.emplace(task_id, context).first;
  }
  network_->select_context(found->second);
}

void Agent::collect(Rollout& r, UpdateStats& stats) {
  const std::size_t n = config_.num_envs, steps = config_.rollout_steps, rows = n * steps;
  const std::size_t input_dim = encoder_.input_dim(), width = head_->action_width();
  r.steps = steps;
  r.envs = n;
  r.inputs.resize({rows, input_dim});
  r.actions.resize({rows, width});
  r.starts.assign(rows, 0);
  r.initial_state = running_.state;
  for (auto* v : {&r.log_probs, &r.values, &r.next_values, &r.rewards, &r.advantages, &r.returns,
                  &r.deltas}) {
    v->assign(rows, 0.0f);
  }
  r.terminated.assign(rows, 0);
  r.truncated.assign(rows, 0);
  r.step_entropy.assign(steps, 0.0);
  r.trace_rows.clear();
  r.trace.clear();

  Matrix batch({n, input_dim});
  std::vector<float> step_actions(n * width);
  std::vector<float> final_rows;  // (k, input_dim): inputs of truncated episodes' final obs
  std::vector<std::size_t> final_rows_of, final_envs;

  for (std::size_t t = 0; t < steps; ++t) {
    std::copy(running_.inputs.begin(), running_.inputs.end(), batch.data());
    std::copy(running_.inputs.begin(), running_.inputs.end(), r.inputs.data() + t * n * input_dim);
    std::copy(running_.starts.begin(), running_.starts.end(), r.starts.begin() + t * n);
    const auto& out = body_->act(batch, running_.starts, running_.state);
    double entropy_sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t row = t * n + i;
      r.values[row] = out[1](i, 0);
      if (t > 0 && !r.terminated[row - n] && !r.truncated[row - n]) {
        r.next_values[row - n] = out[1](i, 0);
      }
      r.log_probs[row] =
          head_->sample(row_of(out[0], i), random_, row_of(r.actions, row), entropy_sum);
      std::copy_n(r.actions.data() + row * width, width, step_actions.data() + i * width);
    }
    r.step_entropy[t] = entropy_sum / double(n);
    head_->step(env_, step_actions);
    steps_ += n;

    final_rows.clear();
    final_rows_of.clear();
    final_envs.clear();
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t row = t * n + i;
      record_transition(r, i, row, stats);
      const bool ended = r.terminated[row] || r.truncated[row];
      if (r.truncated[row] && !r.terminated[row]) {
        // Bootstrap from the value of the final observation, as the network would see it.
        final_rows.resize(final_rows.size() + input_dim);
        const std::size_t packed = env_.single_observation_space().packed_bytes();
        encoder_.next_row(
            running_.inputs, i,
            env_.final_observation_bytes().subspan(i * env_.observation_stride(), packed),
            std::span<float>(final_rows).last(input_dim));
        final_rows_of.push_back(row);
        final_envs.push_back(i);
      }
      encoder_.push(running_.inputs, i, env_.observation_bytes(i), ended);
      running_.starts[i] = ended ? 1 : 0;
      if (ended) {
        running_.ground_truth[i] = int_info(env_.info(i), "ground_truth").value_or(-1);
      }
    }
    if (!final_envs.empty()) {
      Matrix finals({final_envs.size(), input_dim});
      std::copy(final_rows.begin(), final_rows.end(), finals.data());
      const auto& out_final = body_->peek(finals, final_envs, running_.state);
      for (std::size_t k = 0; k < final_envs.size(); ++k) {
        r.next_values[final_rows_of[k]] = out_final[1](k, 0);
      }
    }
  }
  // Bootstrap the last step from the current observations (the state is not advanced: the next
  // rollout's first step computes it again).
  std::copy(running_.inputs.begin(), running_.inputs.end(), batch.data());
  std::vector<std::size_t> all(n);
  std::iota(all.begin(), all.end(), std::size_t{0});
  const auto& out = body_->peek(batch, all, running_.state);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t row = (steps - 1) * n + i;
    if (!r.terminated[row] && !r.truncated[row]) r.next_values[row] = out[1](i, 0);
  }
}

void Agent::record_transition(Rollout& r, std::size_t i, std::size_t row, UpdateStats& stats) {
  const std::size_t n = r.envs;
  const auto reward = static_cast<float>(env_.rewards()[i]);
  const bool terminated = env_.terminations()[i] != 0;
  const bool truncated = env_.truncations()[i] != 0;
  r.rewards[row] = reward;
  r.terminated[row] = terminated;
  r.truncated[row] = truncated;
  running_.returns[i] += reward;
  running_.lengths[i] += 1;
  const envs::Info& info = step_info(env_, i);
  const bool trial_ended = bool_info(info, "trial_ended");
  if (trial_ended && info.contains("correct")) {
    const int correct = bool_info(info, "correct") ? 1 : 0;
    stats.trials_ended += 1;
    stats.trials_correct += correct;
    recent_trials_.push_back(correct);
    if (recent_trials_.size() > kRecentWindow) recent_trials_.pop_front();
  }
  if (trial_ended) {
    if (auto gt = int_info(info, "ground_truth")) running_.ground_truth[i] = *gt;
  }
  if (i < config_.trace_envs) {
    DopamineSample sample;
    sample.update = updates_ + 1;
    sample.step = steps_ - n;
    sample.env = i;
    sample.step_in_trial = running_.step_in_trial[i];
    sample.ground_truth = running_.ground_truth[i];
    sample.action = discrete() ? static_cast<std::int64_t>(r.actions(row, 0)) : 0;
    sample.reward = reward;
    sample.terminated = terminated;
    sample.truncated = truncated;
    sample.trial_ended = trial_ended;
    r.trace.push_back(sample);
    r.trace_rows.push_back(row);
  }
  running_.step_in_trial[i] = trial_ended ? 0 : running_.step_in_trial[i] + 1;
  if (terminated || truncated) {
    stats.episode_returns.push_back(running_.returns[i]);
    stats.episode_lengths.push_back(running_.lengths[i]);
    recent_returns_.push_back(running_.returns[i]);
    if (recent_returns_.size() > kRecentWindow) recent_returns_.pop_front();
    episodes_ += 1;
    running_.returns[i] = 0.0;
    running_.lengths[i] = 0;
    running_.step_in_trial[i] = 0;
  }
}

void Agent::advantages(Rollout& r, UpdateStats& stats) {
  const std::size_t n = r.envs, steps = r.steps, rows = n * steps;
  if (config_.modulation == Modulation::kNone) {
    // Discounted returns, bootstrapped at truncations and at the rollout's end, minus the values.
    for (std::size_t e = 0; e < n; ++e) {
      float next_return = 0.0f;
      for (std::size_t t = steps; t-- > 0;) {
        const std::size_t i = t * n + e;
        const bool cut = r.truncated[i] || t == steps - 1;
        const float bootstrap =
            r.terminated[i] ? 0.0f : config_.gamma * (cut ? r.next_values[i] : next_return);
        r.returns[i] = r.rewards[i] + bootstrap;
        r.advantages[i] = r.returns[i] - r.values[i];
        r.deltas[i] = r.rewards[i] + (r.terminated[i] ? 0.0f : config_.gamma * r.next_values[i]) -
                      r.values[i];
        next_return = r.returns[i];
      }
    }
  } else {
    dopamine_.clear_trace();
    dopamine_.gae(steps, n, r.rewards, r.values, r.next_values, r.terminated, r.truncated,
                  r.advantages, r.returns);
    const auto& trace = dopamine_.trace();
    std::copy(trace.end() - std::ptrdiff_t(rows), trace.end(), r.deltas.begin());
    dopamine_.clear_trace();
    double sum = 0.0, abs_sum = 0.0;
    for (float d : r.deltas) {
      sum += d;
      abs_sum += std::abs(d);
    }
    stats.mean_delta = sum / double(rows);
    stats.mean_abs_delta = abs_sum / double(rows);
    for (std::size_t k = 0; k < r.trace.size(); ++k) {
      const std::size_t row = r.trace_rows[k];
      r.trace[k].value = r.values[row];
      r.trace[k].next_value = r.next_values[row];
      r.trace[k].delta = r.deltas[row];
    }
    dopamine_trace_.insert(dopamine_trace_.end(), r.trace.begin(), r.trace.end());
  }
  for (float a : r.advantages) check_finite(a, "advantage", updates_ + 1);
}

void Agent::modulate(Rollout& r, UpdateStats& stats) {
  if (!noradrenaline_) return;
  const bool entropy = noradrenaline_->config().source == neuromod::UncertaintySource::kEntropy;
  // One observation per update, over the whole rollout: averaging steps x envs transitions keeps
  // the noise of single trials out of the statistics, while a task change raises the surprise
  // for many updates in a row.
  double x = 0.0;
  std::size_t classes = 0;
  if (entropy) {
    for (double h : r.step_entropy) x += h;
    x /= double(r.steps);
    classes = head_->classes();
  } else {
    for (float d : r.deltas) x += std::abs(d);
    x /= double(r.deltas.size());
  }
  na_inputs_.emplace_back(x, classes);
  const auto reading = noradrenaline_->observe(x, classes);
  const bool change = reading.change;
  gain_trace_.push_back(GainSample{updates_ + 1, reading.step, reading.input, reading.z,
                                   reading.gain, reading.change, network_->selected_context()});
  if (change) {
    na_changes_ += 1;
    stats.change = true;
    if (config_.contexts == ContextPolicy::kOnChange) {
      handle_change(r);
      gain_trace_.back().context = network_->selected_context();
    }
  }
  noradrenaline_->apply(*network_);
}

void Agent::handle_change(Rollout& r) {
  const std::size_t n = r.envs, steps = r.steps, rows = n * steps;
  const ContextId current = network_->selected_context();
  double current_surprise = 0.0;
  for (float d : r.deltas) current_surprise += std::abs(d);
  current_surprise /= double(rows);
  ContextId best = current;
  double best_surprise = std::numeric_limits<double>::infinity();
  std::vector<ContextId> ids(rows);
  // The whole rollout in order, every env's sequence from its initial state.
  const Minibatch all = body_->minibatches(steps, n, 1, random_).front();
  for (ContextId c = 0; c < ContextId(network_->context_count()); ++c) {
    if (c == current) continue;
    std::fill(ids.begin(), ids.end(), c);
    const auto& out = body_->forward(r.inputs, all, r.starts, r.initial_state, ids);
    double surprise = 0.0;
    for (std::size_t t = 0; t < steps; ++t) {
      for (std::size_t e = 0; e < n; ++e) {
        const std::size_t i = t * n + e;
        const bool ended = r.terminated[i] || r.truncated[i];
        const float next = (t + 1 < steps && !ended) ? out[1](i + n, 0) : r.next_values[i];
        const float delta =
            r.rewards[i] + (r.terminated[i] ? 0.0f : config_.gamma * next) - out[1](i, 0);
        surprise += std::abs(delta);
      }
    }
    surprise /= double(rows);
    if (surprise < best_surprise) {
      best_surprise = surprise;
      best = c;
    }
  }
  if (best != current && (best_surprise < config_.context_reuse_ratio * current_surprise ||
                          network_->context_count() >= config_.max_contexts)) {
    network_->select_context(best);
  } else if (network_->context_count() < config_.max_contexts) {
    network_->select_context(network_->clone_context(current));
  }
}

Agent::Loss Agent::learn_batch(const Rollout& r, const Minibatch& batch, bool ppo) {
  const std::size_t m = batch.rows.size(), input_dim = encoder_.input_dim();
  const std::size_t width = head_->action_width();
  Matrix inputs({m, input_dim});
  Matrix actions({m, width});
  std::vector<std::uint8_t> starts(m);
  std::vector<float> advantages(m), returns(m), old_log_probs(m), old_values(m);
  for (std::size_t k = 0; k < m; ++k) {
    const std::size_t row = batch.rows[k];
    std::copy_n(r.inputs.data() + row * input_dim, input_dim, inputs.data() + k * input_dim);
    std::copy_n(r.actions.data() + row * width, width, actions.data() + k * width);
    starts[k] = r.starts[row];
    advantages[k] = r.advantages[row];
    returns[k] = r.returns[row];
    old_values[k] = r.values[row];
    old_log_probs[k] = r.log_probs[row];
  }
  if (config_.normalize_advantages && m > 1) {
    double mean = 0.0, var = 0.0;
    for (float a : advantages) mean += a;
    mean /= double(m);
    for (float a : advantages) var += (a - mean) * (a - mean);
    const double scale = 1.0 / (std::sqrt(var / double(m - 1)) + 1e-8);
    for (float& a : advantages) a = static_cast<float>((a - mean) * scale);
  }

  const auto& out = body_->forward(inputs, batch, starts, r.initial_state);
  for (auto& parameter : head_->parameters()) {
    std::fill(parameter.gradient.begin(), parameter.gradient.end(), 0.0f);
  }
  const LossSettings settings{.clipped = ppo,
                              .clip_epsilon = config_.clip_epsilon,
                              .value_clip = ppo ? config_.value_clip : 0.0f,
                              .value_coef = config_.value_coef,
                              .entropy_coef = config_.entropy_coef};
  std::vector<Matrix> gradients(2);
  const LossTerms terms = actor_critic_loss(
      *head_, out[0], out[1], LossTargets{actions, advantages, returns, old_log_probs, old_values},
      settings, gradients[0], gradients[1]);
  check_finite(terms.total, "loss", updates_ + 1);
  network_->zero_grad();
  network_->backward(std::span<const Matrix>(gradients));
  return {terms.total,   terms.policy,    terms.value,
          terms.entropy, terms.approx_kl, terms.clip_fraction};
}

double Agent::optimizer_step() {
  const neuromod::StepStats stats = network_->step();
  check_finite(stats.gradient_norm, "gradient norm", updates_ + 1);
  // The head's own tensors, clipped on their own norm.
  auto parameters = head_->parameters();
  double squared = 0.0;
  for (const auto& parameter : parameters) {
    for (float g : parameter.gradient) squared += double(g) * g;
  }
  const double head_norm = std::sqrt(squared);
  check_finite(head_norm, "gradient norm", updates_ + 1);
  const float factor = neuromod::clip_factor(optimizer_, head_norm);
  for (auto& parameter : parameters) {
    auto& state = head_optimizer_state_[parameter.name];
    if (state.first.size() != parameter.value.size()) {
      state.first.assign(parameter.value.size(), 0.0f);
      state.second.assign(parameter.value.size(), 0.0f);
    }
    state.steps += 1;
    neuromod::apply_update(optimizer_, parameter.value, parameter.gradient, factor, state.first,
                           state.second, state.steps);
  }
  head_->after_step();
  return std::sqrt(stats.gradient_norm * stats.gradient_norm + squared);
}

void Agent::learn(Rollout& r, UpdateStats& stats) {
  const bool ppo = config_.agent == Algorithm::kPpo;
  const std::size_t epochs = ppo ? config_.ppo_epochs : 1;
  const std::size_t count = ppo ? config_.minibatches : 1;
  Loss total;
  std::size_t batches = 0;
  double norm_sum = 0.0;
  for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
    for (const Minibatch& batch : body_->minibatches(r.steps, r.envs, count, random_)) {
      const Loss loss = learn_batch(r, batch, ppo);
      norm_sum += optimizer_step();
      total.total += loss.total;
      total.policy += loss.policy;
      total.value += loss.value;
      total.entropy += loss.entropy;
      total.approx_kl += loss.approx_kl;
      total.clip_fraction += loss.clip_fraction;
      batches += 1;
    }
  }
  stats.loss = total.total / double(batches);
  stats.policy_loss = total.policy / double(batches);
  stats.value_loss = total.value / double(batches);
  stats.entropy = total.entropy / double(batches);
  stats.approx_kl = total.approx_kl / double(batches);
  stats.clip_fraction = total.clip_fraction / double(batches);
  stats.gradient_norm = norm_sum / double(batches);
}

UpdateStats Agent::update() {
  UpdateStats stats;
  Rollout& r = *rollout_;
  try {
    collect(r, stats);
    advantages(r, stats);
    modulate(r, stats);
    learn(r, stats);
  } catch (const neuromod::NonFiniteError& e) {
    throw TrainingError(fmt::format("non-finite value at update {}: {}", updates_ + 1, e.what()));
  }
  updates_ += 1;
  stats.update = updates_;
  stats.steps = steps_;
  stats.gain = noradrenaline_ ? noradrenaline_->gain() : 1.0f;
  stats.context = network_->selected_context();
  stats.contexts = network_->context_count();
  return stats;
}

EvalResult Agent::evaluate(std::size_t episodes, std::optional<std::uint64_t> seed) {
  if (episodes == 0) throw ConfigError("evaluate: episodes must be positive, got 0");
  const std::size_t n = std::min<std::size_t>(episodes, 8);
  const std::size_t input_dim = encoder_.input_dim(), width = head_->action_width();
  envs::VectorEnv env = make_env(config_, n);
  env.reset(seed.value_or(util::mix_seed(config_.seed, 99)));
  std::vector<float> inputs(n * input_dim, 0.0f);
  for (std::size_t i = 0; i < n; ++i) encoder_.push(inputs, i, env.observation_bytes(i), true);
  RecurrentState state = body_->initial_state(n);
  std::vector<std::uint8_t> starts(n, 1);
  std::vector<double> returns, lengths, running(n, 0.0), running_length(n, 0.0);
  // Trials count with the episode they belong to, once it is among the returned episodes.
  std::vector<std::size_t> running_trials(n, 0), running_correct(n, 0);
  std::size_t trials = 0, correct = 0;
  std::vector<float> actions(n * width);
  Matrix batch({n, input_dim});
  const std::size_t max_steps = episodes * 100000;
  for (std::size_t step = 0; returns.size() < episodes && step < max_steps; ++step) {
    std::copy(inputs.begin(), inputs.end(), batch.data());
    const auto& out = body_->act(batch, starts, state);
    for (std::size_t i = 0; i < n; ++i) {
      head_->greedy(row_of(out[0], i), std::span<float>(actions).subspan(i * width, width));
    }
    head_->step(env, actions);
    for (std::size_t i = 0; i < n; ++i) {
      running[i] += env.rewards()[i];
      running_length[i] += 1;
      const envs::Info& info = step_info(env, i);
      if (bool_info(info, "trial_ended") && info.contains("correct")) {
        running_trials[i] += 1;
        running_correct[i] += bool_info(info, "correct") ? 1 : 0;
      }
      const bool ended = env.terminations()[i] || env.truncations()[i];
      if (ended) {
        if (returns.size() < episodes) {
          returns.push_back(running[i]);
          lengths.push_back(running_length[i]);
          trials += running_trials[i];
          correct += running_correct[i];
        }
        running[i] = 0.0;
        running_length[i] = 0.0;
        running_trials[i] = running_correct[i] = 0;
      }
      encoder_.push(inputs, i, env.observation_bytes(i), ended);
      starts[i] = ended ? 1 : 0;
    }
  }
  EvalResult result;
  result.episodes = returns.size();
  if (!returns.empty()) {
    const double mean = std::accumulate(returns.begin(), returns.end(), 0.0) / returns.size();
    double var = 0.0;
    for (double x : returns) var += (x - mean) * (x - mean);
    result.mean_return = mean;
    result.std_return = std::sqrt(var / double(returns.size()));
    result.mean_length = std::accumulate(lengths.begin(), lengths.end(), 0.0) / lengths.size();
  }
  result.trials = trials;
  result.trials_correct = correct;
  const envs::EnvSpec* spec = env_.spec();
  if (trials > 0) {
    result.success_rate = double(correct) / double(trials);
  } else if (spec != nullptr && spec->reward_threshold && !returns.empty()) {
    const auto reached = std::count_if(returns.begin(), returns.end(),
                                       [&](double x) { return x >= *spec->reward_threshold; });
    result.success_rate = double(reached) / double(returns.size());
  } else {
    result.success_rate = std::numeric_limits<double>::quiet_NaN();
  }
  return result;
}

std::vector<DopamineSample> Agent::take_dopamine_trace() {
  std::vector<DopamineSample> out;
  out.swap(dopamine_trace_);
  return out;
}

std::vector<GainSample> Agent::take_gain_trace() {
  std::vector<GainSample> out;
  out.swap(gain_trace_);
  return out;
}

}  // namespace locus::agents
