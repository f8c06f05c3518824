#include "agents/agent.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "agents/agent_env.hpp"
#include "agents/errors.hpp"
#include "agents/losses.hpp"
#include "agents/policy/policy_network.hpp"
#include "envs/registry.hpp"
#include "neuromod/errors.hpp"
#include "util/hash.hpp"

namespace locus::agents {

namespace {

void check_finite(double value, std::string_view what, std::size_t update) {
  if (!std::isfinite(value)) {
    throw TrainingError(
        fmt::format("non-finite {} ({}) at update {}; lower learning_rate or "
                    "set max_grad_norm",
                    what, value, update));
  }
}

}  // namespace

// The transitions of one update, time-major (row t * num_envs + e).
struct Agent::Rollout {
  std::size_t steps = 0, envs = 0;
  Matrix inputs;                     // (T*N, input_dim)
  Matrix step_inputs;                // (N, input_dim): one step's, reused from step to step
  Matrix actions;                    // (T*N, action_width) as the head stores them
  std::vector<std::uint8_t> starts;  // (T*N) the row's observation begins an episode
  RecurrentState initial_state;      // the body's state of every env before step 0
  std::vector<float> log_probs, values, next_values, rewards, advantages, returns, deltas;
  std::vector<std::uint8_t> terminated, truncated;
  std::vector<double> step_entropy;     // (T) mean policy entropy of each step
  std::vector<std::size_t> trace_rows;  // rows of the traced transitions
  std::vector<DopamineSample> trace;

  void reset(std::size_t steps_, std::size_t envs_, std::size_t input_dim, std::size_t width,
             const RecurrentState& state) {
    steps = steps_;
    envs = envs_;
    const std::size_t rows = steps * envs;
    inputs.resize({rows, input_dim});
    step_inputs.resize({envs, input_dim});
    actions.resize({rows, width});
    starts.assign(rows, 0);
    initial_state = state;
    for (auto* v : {&log_probs, &values, &next_values, &rewards, &advantages, &returns, &deltas}) {
      v->assign(rows, 0.0f);
    }
    terminated.assign(rows, 0);
    truncated.assign(rows, 0);
    step_entropy.assign(steps, 0.0);
    trace_rows.clear();
    trace.clear();
  }
};

struct Agent::Loss {
  double total = 0, policy = 0, value = 0, entropy = 0, approx_kl = 0, clip_fraction = 0;
};

Agent::Agent(const AgentConfig& config)
    : config_(config),
      env_(make_agent_env(config, config.num_envs)),
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
  const std::size_t n = config_.num_envs;
  r.reset(config_.rollout_steps, n, encoder_.input_dim(), head_->action_width(), running_.state);
  for (std::size_t t = 0; t < r.steps; ++t) {
    act(r, t);
    steps_ += n;
    for (std::size_t i = 0; i < n; ++i) record_transition(r, i, t * n + i, stats);
    value_truncated_episodes(r, t);
    for (std::size_t i = 0; i < n; ++i) {
      const bool ended = r.terminated[t * n + i] || r.truncated[t * n + i];
      encoder_.push(running_.inputs, i, env_.observation_bytes(i), ended);
      running_.starts[i] = ended ? 1 : 0;
      if (ended) running_.ground_truth[i] = int_info(env_.info(i), "ground_truth").value_or(-1);
    }
  }
  // Bootstrap the last step from the current observations (the state is not advanced: the next
  // rollout's first step computes it again).
  std::copy(running_.inputs.begin(), running_.inputs.end(), r.step_inputs.data());
  std::vector<std::size_t> all(n);
  std::iota(all.begin(), all.end(), std::size_t{0});
  const auto& out = body_->peek(r.step_inputs, all, running_.state);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t row = (r.steps - 1) * n + i;
    if (!r.terminated[row] && !r.truncated[row]) r.next_values[row] = out[1](i, 0);
  }
}

void Agent::act(Rollout& r, std::size_t t) {
  const std::size_t n = r.envs, input_dim = encoder_.input_dim(), width = head_->action_width();
  std::copy(running_.inputs.begin(), running_.inputs.end(), r.step_inputs.data());
  std::copy(running_.inputs.begin(), running_.inputs.end(), r.inputs.data() + t * n * input_dim);
  std::copy(running_.starts.begin(), running_.starts.end(), r.starts.begin() + t * n);
  const auto& out = body_->act(r.step_inputs, running_.starts, running_.state);
  double entropy_sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t row = t * n + i;
    r.values[row] = out[1](i, 0);
    if (t > 0 && !r.terminated[row - n] && !r.truncated[row - n]) {
      r.next_values[row - n] = out[1](i, 0);
    }
    r.log_probs[row] =
        head_->sample(matrix_row(out[0], i), random_, matrix_row(r.actions, row), entropy_sum);
  }
  r.step_entropy[t] = entropy_sum / double(n);
  head_->step(env_, std::span<const float>(r.actions.data() + t * n * width, n * width));
}

void Agent::value_truncated_episodes(Rollout& r, std::size_t t) {
  // A truncated episode bootstraps from the value of its final observation, as the network would
  // have seen it next (the inputs and state not yet advanced past the step).
  const std::size_t input_dim = encoder_.input_dim();
  const std::size_t packed = env_.single_observation_space().packed_bytes();
  std::vector<float> inputs;
  std::vector<std::size_t> rows, envs;
  for (std::size_t i = 0; i < r.envs; ++i) {
    const std::size_t row = t * r.envs + i;
    if (!r.truncated[row] || r.terminated[row]) continue;
    inputs.resize(inputs.size() + input_dim);
    encoder_.next_row(running_.inputs, i,
                      env_.final_observation_bytes().subspan(i * env_.observation_stride(), packed),
                      std::span<float>(inputs).last(input_dim));
    rows.push_back(row);
    envs.push_back(i);
  }
  if (envs.empty()) return;
  Matrix finals({envs.size(), input_dim});
  std::copy(inputs.begin(), inputs.end(), finals.data());
  const auto& out = body_->peek(finals, envs, running_.state);
  for (std::size_t k = 0; k < envs.size(); ++k) r.next_values[rows[k]] = out[1](k, 0);
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
      if (gradient_hook_) gradient_hook_(*network_);
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

const neuromod::Matrix& Agent::rollout_inputs() const {
  return rollout_->inputs;
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
