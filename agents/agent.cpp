#include "agents/agent.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <numbers>
#include <numeric>
#include <sstream>

#include "agents/errors.hpp"
#include "envs/registry.hpp"
#include "neuromod/checkpoint.hpp"
#include "neuromod/errors.hpp"
#include "neuromod/losses.hpp"
#include "util/atomic_file.hpp"

namespace locus::agents {

using neuromod::ContextId;
using neuromod::Matrix;

namespace {

constexpr std::size_t kRecentWindow = 100;

// The config's precision on a new or loaded network; a precision the device or CPU lacks is a
// config error naming the key.
void set_precision(neuromod::Network& network, neuromod::MatmulPrecision precision) {
  try {
    network.set_matmul_precision(precision);
  } catch (const neuromod::InvalidArgumentError& e) {
    throw ConfigError(fmt::format("config key 'precision': {}", e.what()));
  }
}
constexpr char kMagic[8] = {'L', 'O', 'C', 'U', 'S', 'A', 'G', '\0'};
constexpr std::uint32_t kFormatVersion = 1;
constexpr float kLogSqrtTwoPi = 0.91893853320467274178f;  // log(sqrt(2 pi))

// splitmix64: independent seeds for the network, the segments and the evaluation envs.
std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a + 0x9e3779b97f4a7c15ull * (b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return (z ^ (z >> 31)) >> 1;  // below 2^63: fits the JSON integers of env seeds
}

std::uint64_t fnv1a(const std::string& bytes) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

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

}  // namespace

// The transitions of one update, time-major (row t * num_envs + e).
struct Agent::Rollout {
  std::size_t steps = 0, envs = 0;
  Matrix inputs;                       // (T*N, input_dim)
  Matrix actions;                      // (T*N, action_dim) Gaussian actions (unclipped)
  std::vector<std::int32_t> discrete;  // (T*N) categorical actions
  std::vector<float> log_probs, values, next_values, rewards, advantages, returns, deltas;
  std::vector<std::uint8_t> terminated, truncated;
  std::vector<double> step_entropy;     // (T) mean policy entropy of each step
  std::vector<std::size_t> trace_rows;  // rows of the traced transitions
  std::vector<DopamineSample> trace;
};

Agent::Agent(const AgentConfig& config)
    : config_(config),
      env_(make_env(config, config.num_envs)),
      dopamine_(neuromod::DopamineConfig{
          .gamma = config.gamma,
          .lambda = config.agent == Algorithm::kReinforce ? 1.0f : config.gae_lambda,
          .record_trace = true,
          .trace_capacity = 0}),
      rng_(mix(config.seed, 7)) {
  config_.validate();
  const auto& obs_space = env_.single_observation_space();
  if (const auto* box = dynamic_cast<const envs::Box*>(&obs_space)) {
    if (box->dtype() != envs::DType::kFloat32 && box->dtype() != envs::DType::kFloat64) {
      throw ConfigError(fmt::format("env {}: observation space {} is not a float Box or Discrete",
                                    config.env, obs_space.to_string()));
    }
    observation_dim_ = box->low().size();
  } else if (const auto* discrete = dynamic_cast<const envs::Discrete*>(&obs_space)) {
    observation_dim_ = static_cast<std::size_t>(discrete->n());  // one-hot
  } else {
    throw ConfigError(
        fmt::format("env {}: observation space {} is not supported (a float Box or a Discrete is)",
                    config.env, obs_space.to_string()));
  }
  input_dim_ = observation_dim_ * config_.frame_stack;
  const auto& action_space = env_.single_action_space();
  if (const auto* discrete = dynamic_cast<const envs::Discrete*>(&action_space)) {
    discrete_ = true;
    action_dim_ = static_cast<std::size_t>(discrete->n());
  } else if (const auto* box = dynamic_cast<const envs::Box*>(&action_space);
             box != nullptr && box->dtype() == envs::DType::kFloat32) {
    discrete_ = false;
    action_dim_ = box->low().size();
    action_low_ = box->low();
    action_high_ = box->high();
    log_std_.assign(action_dim_, config_.init_log_std);
    log_std_grad_.assign(action_dim_, 0.0f);
  } else {
    throw ConfigError(fmt::format(
        "env {}: action space {} is not supported (Discrete for a categorical policy, a float32 "
        "Box for a Gaussian one)",
        config.env, action_space.to_string()));
  }
  // Now that the env's sizes are known, before the network and the rollout are allocated.
  config_.check_memory(observation_dim_, action_dim_);
  optimizer_.kind = neuromod::optimizer_kind_from_string(config_.optimizer);
  optimizer_.learning_rate = config_.learning_rate;
  optimizer_.clip_grad_norm = config_.max_grad_norm;
  if (optimizer_.kind == neuromod::OptimizerKind::kAdam) optimizer_.epsilon = 1e-5f;
  if (optimizer_.kind == neuromod::OptimizerKind::kRmsprop) optimizer_.epsilon = 1e-5f;
  build_network();
  if (config_.modulation == Modulation::kDopamineNoradrenaline) {
    noradrenaline_.emplace(noradrenaline_config());
    noradrenaline_->apply(*network_);
  }
  const std::size_t n = config_.num_envs;
  history_.assign(n * input_dim_, 0.0f);
  episode_return_.assign(n, 0.0);
  episode_length_.assign(n, 0);
  step_in_trial_.assign(n, 0);
  ground_truth_.assign(n, -1);
  rollout_ = std::make_unique<Rollout>();
  begin_segment();
}

Agent::~Agent() = default;
Agent::Agent(Agent&&) noexcept = default;
Agent& Agent::operator=(Agent&&) noexcept = default;

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

void Agent::build_network() {
  const std::uint64_t seed = mix(config_.seed, 1);
  neuromod::NetworkSpec spec;
  if (config_.network == NetworkMode::kModulated) {
    spec = neuromod::modulated_mlp(input_dim_, config_.hidden, action_dim_, seed);
    neuromod::set_actor_critic_heads(spec, action_dim_,
                                     neuromod::ReadoutWeights::kTrainablePerContext);
  } else {
    spec = neuromod::baseline_mlp(input_dim_, config_.hidden, action_dim_, seed, true);
    neuromod::set_actor_critic_heads(spec, action_dim_, neuromod::ReadoutWeights::kTrainableShared);
  }
  spec.name = fmt::format("{}_{}_actor_critic", to_string(config_.network), config_.env);
  network_ = neuromod::make_network(spec, config_.device);
  set_precision(*network_, config_.precision);
  network_->set_gradient_mode(config_.network == NetworkMode::kModulated
                                  ? neuromod::GradientMode::kContextOnly
                                  : neuromod::GradientMode::kAllTrainable);
}

double Agent::uniform() {
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

double Agent::normal() {
  // Box-Muller on our own uniforms: std::normal_distribution differs between standard libraries.
  const double u1 = 1.0 - uniform();
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

void Agent::decode_observation(std::span<const std::byte> packed, float* out) const {
  const auto& space = env_.single_observation_space();
  if (const auto* box = dynamic_cast<const envs::Box*>(&space)) {
    if (box->dtype() == envs::DType::kFloat32) {
      std::memcpy(out, packed.data(), observation_dim_ * sizeof(float));
    } else {
      for (std::size_t k = 0; k < observation_dim_; ++k) {
        double v;
        std::memcpy(&v, packed.data() + k * sizeof(double), sizeof(double));
        out[k] = static_cast<float>(v);
      }
    }
  } else {
    std::int64_t index;
    std::memcpy(&index, packed.data(), sizeof(index));
    const auto& discrete = static_cast<const envs::Discrete&>(space);
    std::fill(out, out + observation_dim_, 0.0f);
    out[index - discrete.start()] = 1.0f;
  }
}

void Agent::push_frame(std::vector<float>& history, std::size_t env,
                       std::span<const std::byte> packed, bool reset) const {
  float* row = history.data() + env * input_dim_;
  if (reset) {
    std::fill(row, row + input_dim_, 0.0f);
  } else {
    std::memmove(row, row + observation_dim_, (input_dim_ - observation_dim_) * sizeof(float));
  }
  decode_observation(packed, row + input_dim_ - observation_dim_);
}

void Agent::begin_segment() {
  env_.reset(mix(config_.seed, 1000 + updates_));
  for (std::size_t i = 0; i < config_.num_envs; ++i) {
    push_frame(history_, i, env_.observation_bytes(i), true);
    episode_return_[i] = 0.0;
    episode_length_[i] = 0;
    step_in_trial_[i] = 0;
    ground_truth_[i] = int_info(env_.info(i), "ground_truth").value_or(-1);
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
  r.steps = steps;
  r.envs = n;
  r.inputs.resize({rows, input_dim_});
  if (discrete_) {
    r.discrete.resize(rows);
  } else {
    r.actions.resize({rows, action_dim_});
  }
  for (auto* v : {&r.log_probs, &r.values, &r.next_values, &r.rewards, &r.advantages, &r.returns,
                  &r.deltas}) {
    v->assign(rows, 0.0f);
  }
  r.terminated.assign(rows, 0);
  r.truncated.assign(rows, 0);
  r.step_entropy.assign(steps, 0.0);
  r.trace_rows.clear();
  r.trace.clear();

  Matrix batch({n, input_dim_});
  std::vector<std::int64_t> discrete_actions(n);
  std::vector<float> continuous_actions(n * action_dim_);
  std::vector<float> final_rows;  // (k, input_dim): stacked final observations of truncated envs
  std::vector<std::size_t> final_index;
  std::vector<float> final_history(input_dim_);

  for (std::size_t t = 0; t < steps; ++t) {
    std::copy(history_.begin(), history_.end(), batch.data());
    std::copy(history_.begin(), history_.end(), r.inputs.data() + t * n * input_dim_);
    const auto& out = network_->forward(batch);
    const Matrix& head = out[0];
    const Matrix& value = out[1];
    double entropy_sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t row = t * n + i;
      r.values[row] = value(i, 0);
      if (t > 0 && !r.terminated[row - n] && !r.truncated[row - n]) {
        r.next_values[row - n] = value(i, 0);
      }
      if (discrete_) {
        // Softmax with the max subtracted; sample by inverse CDF with one uniform.
        float max_logit = head(i, 0);
        for (std::size_t a = 1; a < action_dim_; ++a) max_logit = std::max(max_logit, head(i, a));
        double total = 0.0;
        for (std::size_t a = 0; a < action_dim_; ++a) total += std::exp(head(i, a) - max_logit);
        const double u = uniform() * total;
        double cumulative = 0.0;
        std::size_t chosen = action_dim_ - 1;
        for (std::size_t a = 0; a < action_dim_; ++a) {
          cumulative += std::exp(head(i, a) - max_logit);
          if (u < cumulative) {
            chosen = a;
            break;
          }
        }
        double entropy = 0.0;
        for (std::size_t a = 0; a < action_dim_; ++a) {
          const double p = std::exp(head(i, a) - max_logit) / total;
          if (p > 0) entropy -= p * std::log(p);
        }
        entropy_sum += entropy;
        r.discrete[row] = static_cast<std::int32_t>(chosen);
        r.log_probs[row] = static_cast<float>(head(i, chosen) - max_logit - std::log(total));
        discrete_actions[i] = static_cast<std::int64_t>(chosen);
      } else {
        double log_prob = 0.0;
        for (std::size_t a = 0; a < action_dim_; ++a) {
          const float std_dev = std::exp(log_std_[a]);
          const float noise = static_cast<float>(normal());
          const float action = head(i, a) + std_dev * noise;
          r.actions(row, a) = action;
          log_prob += -0.5 * double(noise) * noise - log_std_[a] - kLogSqrtTwoPi;
          continuous_actions[i * action_dim_ + a] =
              static_cast<float>(std::clamp<double>(action, action_low_[a], action_high_[a]));
          entropy_sum += log_std_[a] + 0.5 + kLogSqrtTwoPi;
        }
        r.log_probs[row] = static_cast<float>(log_prob);
      }
    }
    r.step_entropy[t] = entropy_sum / double(n);
    if (discrete_) {
      env_.step(std::span<const std::int64_t>(discrete_actions));
    } else {
      env_.step(std::span<const float>(continuous_actions));
    }
    steps_ += n;

    final_rows.clear();
    final_index.clear();
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t row = t * n + i;
      const float reward = static_cast<float>(env_.rewards()[i]);
      const bool terminated = env_.terminations()[i] != 0;
      const bool truncated = env_.truncations()[i] != 0;
      r.rewards[row] = reward;
      r.terminated[row] = terminated;
      r.truncated[row] = truncated;
      episode_return_[i] += reward;
      episode_length_[i] += 1;
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
        if (auto gt = int_info(info, "ground_truth")) ground_truth_[i] = *gt;
      }
      if (i < config_.trace_envs) {
        DopamineSample sample;
        sample.update = updates_ + 1;
        sample.step = steps_ - n;
        sample.env = i;
        sample.step_in_trial = step_in_trial_[i];
        sample.ground_truth = ground_truth_[i];
        sample.action = discrete_ ? discrete_actions[i] : 0;
        sample.reward = reward;
        sample.terminated = terminated;
        sample.truncated = truncated;
        sample.trial_ended = trial_ended;
        r.trace.push_back(sample);
        r.trace_rows.push_back(row);
      }
      step_in_trial_[i] = trial_ended ? 0 : step_in_trial_[i] + 1;
      if (terminated || truncated) {
        stats.episode_returns.push_back(episode_return_[i]);
        stats.episode_lengths.push_back(episode_length_[i]);
        recent_returns_.push_back(episode_return_[i]);
        if (recent_returns_.size() > kRecentWindow) recent_returns_.pop_front();
        episodes_ += 1;
        episode_return_[i] = 0.0;
        episode_length_[i] = 0;
        step_in_trial_[i] = 0;
        if (truncated && !terminated) {
          // Bootstrap from the value of the final observation: stack it as the network saw it.
          std::copy_n(history_.begin() + std::ptrdiff_t(i * input_dim_), input_dim_,
                      final_history.begin());
          std::memmove(final_history.data(), final_history.data() + observation_dim_,
                       (input_dim_ - observation_dim_) * sizeof(float));
          const auto finals = env_.final_observation_bytes();
          decode_observation(finals.subspan(i * env_.observation_stride(),
                                            env_.single_observation_space().packed_bytes()),
                             final_history.data() + input_dim_ - observation_dim_);
          final_rows.insert(final_rows.end(), final_history.begin(), final_history.end());
          final_index.push_back(row);
        }
        push_frame(history_, i, env_.observation_bytes(i), true);
        ground_truth_[i] = int_info(env_.info(i), "ground_truth").value_or(-1);
      } else {
        push_frame(history_, i, env_.observation_bytes(i), false);
      }
    }
    if (!final_index.empty()) {
      Matrix finals({final_index.size(), input_dim_});
      std::copy(final_rows.begin(), final_rows.end(), finals.data());
      const auto& out_final = network_->forward(finals);
      for (std::size_t k = 0; k < final_index.size(); ++k) {
        r.next_values[final_index[k]] = out_final[1](k, 0);
      }
    }
  }
  // Bootstrap the last step from the current observations.
  std::copy(history_.begin(), history_.end(), batch.data());
  const auto& out = network_->forward(batch);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t row = (steps - 1) * n + i;
    if (!r.terminated[row] && !r.truncated[row]) r.next_values[row] = out[1](i, 0);
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
  const std::size_t n = r.envs;
  const bool entropy = noradrenaline_->config().source == neuromod::UncertaintySource::kEntropy;
  // One observation per update, over the whole rollout: averaging steps x envs transitions keeps
  // the noise of single trials out of the statistics, while a task change raises the surprise
  // for many updates in a row.
  double x = 0.0;
  std::size_t classes = 0;
  if (entropy) {
    for (double h : r.step_entropy) x += h;
    x /= double(r.steps);
    classes = discrete_ ? action_dim_ : 0;
  } else {
    for (float d : r.deltas) x += std::abs(d);
    x /= double(r.deltas.size());
  }
  (void)n;
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
  for (ContextId c = 0; c < ContextId(network_->context_count()); ++c) {
    if (c == current) continue;
    std::fill(ids.begin(), ids.end(), c);
    const auto& out = network_->forward(r.inputs, ids);
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

Agent::Loss Agent::learn_batch(const Rollout& r, std::span<const std::size_t> rows, bool ppo) {
  const std::size_t m = rows.size();
  Matrix inputs({m, input_dim_});
  std::vector<float> advantages(m), returns(m), old_log_probs(ppo ? m : 0), old_values(m);
  std::vector<std::int32_t> actions(discrete_ ? m : 0);
  for (std::size_t k = 0; k < m; ++k) {
    const std::size_t row = rows[k];
    std::copy_n(r.inputs.data() + row * input_dim_, input_dim_, inputs.data() + k * input_dim_);
    advantages[k] = r.advantages[row];
    returns[k] = r.returns[row];
    old_values[k] = r.values[row];
    if (ppo) old_log_probs[k] = r.log_probs[row];
    if (discrete_) actions[k] = r.discrete[row];
  }
  if (config_.normalize_advantages && m > 1) {
    double mean = 0.0, var = 0.0;
    for (float a : advantages) mean += a;
    mean /= double(m);
    for (float a : advantages) var += (a - mean) * (a - mean);
    const double scale = 1.0 / (std::sqrt(var / double(m - 1)) + 1e-8);
    for (float& a : advantages) a = static_cast<float>((a - mean) * scale);
  }

  const auto& out = network_->forward(inputs);
  const Matrix& head = out[0];
  const Matrix& values = out[1];
  Matrix policy_grad, value_grad;
  Loss loss;
  if (discrete_) {
    neuromod::ActorCriticCoefficients coefficients{.value_coef = config_.value_coef,
                                                   .entropy_coef = config_.entropy_coef,
                                                   .clip_epsilon = config_.clip_epsilon};
    const auto result =
        neuromod::actor_critic_loss(head, values, actions, advantages, returns, old_log_probs,
                                    coefficients, &policy_grad, &value_grad);
    loss = {result.total,   result.policy,    result.value,
            result.entropy, result.approx_kl, result.clip_fraction};
  } else {
    // Gaussian policy: log pi = sum_a -0.5 z^2 - log_std - log sqrt(2 pi), z = (a - mu) / std.
    policy_grad = Matrix({m, action_dim_});
    std::fill(log_std_grad_.begin(), log_std_grad_.end(), 0.0f);
    double policy_sum = 0.0, kl_sum = 0.0;
    std::size_t clipped = 0;
    const float inv_m = 1.0f / float(m);
    for (std::size_t k = 0; k < m; ++k) {
      const std::size_t row = rows[k];
      double log_prob = 0.0;
      for (std::size_t a = 0; a < action_dim_; ++a) {
        const double z = (r.actions(row, a) - head(k, a)) / std::exp(double(log_std_[a]));
        log_prob += -0.5 * z * z - log_std_[a] - kLogSqrtTwoPi;
      }
      double weight = advantages[k];  // d(objective)/d(log pi) for this row
      if (ppo) {
        const double ratio = std::exp(log_prob - old_log_probs[k]);
        const double eps = config_.clip_epsilon;
        const double unclipped = ratio * advantages[k];
        const double clipped_value = std::clamp(ratio, 1.0 - eps, 1.0 + eps) * advantages[k];
        policy_sum += -std::min(unclipped, clipped_value);
        kl_sum += old_log_probs[k] - log_prob;
        if (clipped_value < unclipped) {
          weight = 0.0;
          clipped += 1;
        } else {
          weight = ratio * advantages[k];
        }
      } else {
        policy_sum += -advantages[k] * log_prob;
      }
      for (std::size_t a = 0; a < action_dim_; ++a) {
        const double std_dev = std::exp(double(log_std_[a]));
        const double z = (r.actions(row, a) - head(k, a)) / std_dev;
        // d log pi / d mu = z / std; d log pi / d log_std = z^2 - 1.
        policy_grad(k, a) = static_cast<float>(-weight * z / std_dev * inv_m);
        log_std_grad_[a] += static_cast<float>(-weight * (z * z - 1.0) * inv_m);
      }
    }
    double entropy = 0.0;
    for (std::size_t a = 0; a < action_dim_; ++a) {
      entropy += log_std_[a] + 0.5 + kLogSqrtTwoPi;
      log_std_grad_[a] -= config_.entropy_coef;  // d(-c H)/d log_std
    }
    value_grad = Matrix({m, 1});
    double value_sum = 0.0;
    for (std::size_t k = 0; k < m; ++k) {
      const float diff = values(k, 0) - returns[k];
      value_sum += double(diff) * diff;
      value_grad(k, 0) = 2.0f * config_.value_coef * diff * inv_m;
    }
    loss.policy = policy_sum / double(m);
    loss.value = value_sum / double(m);
    loss.entropy = entropy;
    loss.approx_kl = kl_sum / double(m);
    loss.clip_fraction = double(clipped) / double(m);
    loss.total = loss.policy + config_.value_coef * loss.value - config_.entropy_coef * entropy;
  }
  if (ppo && config_.value_clip > 0) {
    // PPO's clipped value loss: max((V - R)^2, (V_old + clip(V - V_old) - R)^2).
    double value_sum = 0.0;
    for (std::size_t k = 0; k < m; ++k) {
      const float v = values(k, 0);
      const float v_clipped =
          old_values[k] + std::clamp(v - old_values[k], -config_.value_clip, config_.value_clip);
      const float plain = (v - returns[k]) * (v - returns[k]);
      const float clipped = (v_clipped - returns[k]) * (v_clipped - returns[k]);
      const bool use_plain = plain >= clipped;
      value_sum += std::max(plain, clipped);
      value_grad(k, 0) = use_plain ? 2.0f * config_.value_coef * (v - returns[k]) / float(m) : 0.0f;
    }
    loss.total += config_.value_coef * (value_sum / double(m) - loss.value);
    loss.value = value_sum / double(m);
  }
  check_finite(loss.total, "loss", updates_ + 1);
  network_->zero_grad();
  const std::vector<Matrix> grads = {std::move(policy_grad), std::move(value_grad)};
  network_->backward(std::span<const Matrix>(grads));
  return loss;
}

double Agent::optimizer_step() {
  const ContextId selected = network_->selected_context();
  const bool all = network_->gradient_mode() == neuromod::GradientMode::kAllTrainable;
  struct Entry {
    std::string name;
    ContextId context;
    std::vector<float> grad;
  };
  std::vector<Entry> entries;
  double squared = 0.0;
  for (const auto& info : network_->parameters()) {
    if (!info.trainable) continue;
    if (info.context == neuromod::kSharedContext ? !all : info.context != selected) continue;
    if (info.context != neuromod::kSharedContext && network_->is_frozen(info.context)) continue;
    Entry entry{info.name, info.context, network_->read_gradient(info.name, info.context)};
    for (float g : entry.grad) squared += double(g) * g;
    entries.push_back(std::move(entry));
  }
  for (float g : log_std_grad_) squared += double(g) * g;
  const double norm = std::sqrt(squared);
  check_finite(norm, "gradient norm", updates_ + 1);
  const float factor = neuromod::clip_factor(optimizer_, norm);
  auto update = [&](const std::string& key, std::span<float> value, std::span<const float> grad) {
    auto& state = optimizer_state_[key];
    if (state.first.size() != value.size()) {
      state.first.assign(value.size(), 0.0f);
      state.second.assign(value.size(), 0.0f);
    }
    state.steps += 1;
    neuromod::apply_update(optimizer_, value, grad, factor, state.first, state.second, state.steps);
  };
  for (auto& entry : entries) {
    std::vector<float> value = network_->read_parameter(entry.name, entry.context);
    update(fmt::format("{}@{}", entry.name, entry.context), value, entry.grad);
    network_->write_parameter(entry.name, entry.context, value);
  }
  if (!log_std_.empty()) {
    update("log_std", log_std_, log_std_grad_);
    for (float& v : log_std_) v = std::clamp(v, -5.0f, 2.0f);  // keeps exp(log_std) sane
  }
  return norm;
}

void Agent::learn(Rollout& r, UpdateStats& stats) {
  const std::size_t rows = r.steps * r.envs;
  std::vector<std::size_t> order(rows);
  std::iota(order.begin(), order.end(), std::size_t{0});
  Loss total;
  std::size_t batches = 0;
  double norm_sum = 0.0;
  if (config_.agent == Algorithm::kPpo) {
    const std::size_t size = rows / config_.minibatches;
    for (std::size_t epoch = 0; epoch < config_.ppo_epochs; ++epoch) {
      for (std::size_t k = rows; k-- > 1;) {  // Fisher-Yates on our own uniforms
        const auto j = static_cast<std::size_t>(uniform() * double(k + 1));
        std::swap(order[k], order[std::min(j, k)]);
      }
      for (std::size_t b = 0; b < config_.minibatches; ++b) {
        const std::size_t end = b + 1 == config_.minibatches ? rows : (b + 1) * size;
        const auto loss = learn_batch(
            r, std::span<const std::size_t>(order).subspan(b * size, end - b * size), true);
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
  } else {
    total = learn_batch(r, order, false);
    norm_sum = optimizer_step();
    batches = 1;
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
  envs::VectorEnv env = make_env(config_, n);
  env.reset(seed.value_or(mix(config_.seed, 99)));
  std::vector<float> history(n * input_dim_, 0.0f);
  for (std::size_t i = 0; i < n; ++i) push_frame(history, i, env.observation_bytes(i), true);
  std::vector<double> returns, lengths, running(n, 0.0), running_length(n, 0.0);
  std::size_t trials = 0, correct = 0;
  std::vector<std::int64_t> discrete_actions(n);
  std::vector<float> continuous_actions(n * action_dim_);
  Matrix batch({n, input_dim_});
  const std::size_t max_steps = episodes * 100000;
  for (std::size_t step = 0; returns.size() < episodes && step < max_steps; ++step) {
    std::copy(history.begin(), history.end(), batch.data());
    const auto& out = network_->forward(batch);
    for (std::size_t i = 0; i < n; ++i) {
      if (discrete_) {
        std::size_t best = 0;
        for (std::size_t a = 1; a < action_dim_; ++a) {
          if (out[0](i, a) > out[0](i, best)) best = a;
        }
        discrete_actions[i] = static_cast<std::int64_t>(best);
      } else {
        for (std::size_t a = 0; a < action_dim_; ++a) {
          continuous_actions[i * action_dim_ + a] =
              static_cast<float>(std::clamp<double>(out[0](i, a), action_low_[a], action_high_[a]));
        }
      }
    }
    if (discrete_) {
      env.step(std::span<const std::int64_t>(discrete_actions));
    } else {
      env.step(std::span<const float>(continuous_actions));
    }
    for (std::size_t i = 0; i < n; ++i) {
      running[i] += env.rewards()[i];
      running_length[i] += 1;
      const envs::Info& info = step_info(env, i);
      if (bool_info(info, "trial_ended") && info.contains("correct") && returns.size() < episodes) {
        trials += 1;
        correct += bool_info(info, "correct") ? 1 : 0;
      }
      const bool ended = env.terminations()[i] || env.truncations()[i];
      if (ended) {
        if (returns.size() < episodes) {
          returns.push_back(running[i]);
          lengths.push_back(running_length[i]);
        }
        running[i] = 0.0;
        running_length[i] = 0.0;
      }
      push_frame(history, i, env.observation_bytes(i), ended);
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

// --- checkpoints --------------------------------------------------------------------------------

void Agent::save(const std::filesystem::path& path) const {
  nlohmann::json state;
  state["config"] = config_.to_json();
  state["steps"] = steps_;
  state["updates"] = updates_;
  state["episodes"] = episodes_;
  state["na_changes"] = na_changes_;
  std::ostringstream rng_text;
  rng_text << rng_;
  state["rng"] = rng_text.str();
  nlohmann::json optimizer = nlohmann::json::object();
  for (const auto& [key, s] : optimizer_state_) {
    optimizer[key] = {{"first", s.first}, {"second", s.second}, {"steps", s.steps}};
  }
  state["optimizer"] = optimizer;
  state["log_std"] = log_std_;
  state["recent_returns"] = recent_returns_;
  state["recent_trials"] = recent_trials_;
  state["na_inputs"] = na_inputs_;
  nlohmann::json tasks = nlohmann::json::array();
  for (const auto& [task, context] : task_contexts_) tasks.push_back({task, context});
  state["task_contexts"] = tasks;

  // The network through neuromod's own checkpoint format, embedded in ours.
  const std::vector<unsigned char> network_bytes = neuromod::encode_checkpoint(*network_);

  const std::string header = state.dump();
  std::string data(kMagic, sizeof(kMagic));
  auto put_u64 = [&](std::uint64_t v) {
    for (int b = 0; b < 8; ++b) data.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
  };
  for (int b = 0; b < 4; ++b) data.push_back(static_cast<char>((kFormatVersion >> (8 * b)) & 0xff));
  put_u64(header.size());
  data += header;
  put_u64(network_bytes.size());
  data.append(reinterpret_cast<const char*>(network_bytes.data()), network_bytes.size());
  put_u64(fnv1a(data));

  util::write_file_atomically<CheckpointError>(path, data);
}

// Reads the fields of an agent checkpoint's state record, checking each: a field that is missing,
// of the wrong type or out of range throws CheckpointError naming the file, the field and the
// problem (the checksum only proves the record is as written).
class StateReader {
 public:
  StateReader(const std::filesystem::path& path, const nlohmann::json& state)
      : path_(path), state_(state) {}

  [[noreturn]] void bad(std::string_view field, std::string_view problem) const {
    throw CheckpointError(fmt::format("checkpoint {} is unusable: state field '{}' {}",
                                      path_.string(), field, problem));
  }
  const nlohmann::json& at(std::string_view key) const { return member(state_, key, key); }
  const nlohmann::json& member(const nlohmann::json& object, std::string_view key,
                               std::string_view field) const {
    if (!object.is_object()) bad(field, "belongs to something that is not a JSON object");
    const auto found = object.find(key);
    if (found == object.end()) bad(field, "is missing");
    return *found;
  }
  const nlohmann::json& array(const nlohmann::json& value, std::string_view field,
                              std::size_t most = std::numeric_limits<std::size_t>::max()) const {
    if (!value.is_array()) bad(field, fmt::format("is {}, not an array", value.type_name()));
    if (value.size() > most)
      bad(field, fmt::format("has {} entries; at most {}", value.size(), most));
    return value;
  }
  std::int64_t integer(const nlohmann::json& value, std::string_view field, std::int64_t least,
                       std::int64_t most) const {
    const bool fits =
        value.is_number_integer() &&
        !(value.is_number_unsigned() && value.get<std::uint64_t>() > std::uint64_t(most));
    if (!fits || value.get<std::int64_t>() < least || value.get<std::int64_t>() > most) {
      bad(field,
          fmt::format("is {}; it must be an integer from {} to {}", value.dump(), least, most));
    }
    return value.get<std::int64_t>();
  }
  std::size_t count(std::string_view key) const {
    return static_cast<std::size_t>(
        integer(at(key), key, 0, std::numeric_limits<std::int64_t>::max()));
  }
  double finite(const nlohmann::json& value, std::string_view field, double most) const {
    if (!value.is_number() || !std::isfinite(value.get<double>()) ||
        std::abs(value.get<double>()) > most) {
      bad(field, fmt::format("is {}; it must be a finite number of magnitude at most {}",
                             value.dump(), most));
    }
    return value.get<double>();
  }
  std::vector<float> floats(const nlohmann::json& value, std::string_view field,
                            std::size_t size) const {
    array(value, field);
    if (value.size() != size) {
      bad(field, fmt::format("has {} values; the network's tensor has {}", value.size(), size));
    }
    std::vector<float> out;
    out.reserve(size);
    for (std::size_t i = 0; i < size; ++i) {
      out.push_back(static_cast<float>(
          finite(value[i], fmt::format("{}[{}]", field, i), std::numeric_limits<float>::max())));
    }
    return out;
  }
  std::string string(const nlohmann::json& value, std::string_view field) const {
    if (!value.is_string()) bad(field, fmt::format("is {}, not a string", value.dump()));
    return value.get<std::string>();
  }

 private:
  const std::filesystem::path& path_;
  const nlohmann::json& state_;
};

void Agent::restore_state(const StateReader& reader) {
  steps_ = reader.count("steps");
  updates_ = reader.count("updates");
  episodes_ = reader.count("episodes");
  na_changes_ = reader.count("na_changes");
  std::istringstream rng_text(reader.string(reader.at("rng"), "rng"));
  rng_text >> rng_;
  if (rng_text.fail() || !(rng_text >> std::ws).eof()) {
    reader.bad("rng", "is not the state of a std::mt19937_64 (624 + 1 numbers)");
  }
  restore_optimizer_state(reader);
  log_std_ = reader.floats(reader.at("log_std"), "log_std", discrete_ ? 0 : action_dim_);
  for (const auto& value :
       reader.array(reader.at("recent_returns"), "recent_returns", kRecentWindow)) {
    recent_returns_.push_back(
        reader.finite(value, "recent_returns", std::numeric_limits<double>::max()));
  }
  for (const auto& value :
       reader.array(reader.at("recent_trials"), "recent_trials", kRecentWindow)) {
    recent_trials_.push_back(static_cast<int>(reader.integer(value, "recent_trials", 0, 1)));
  }
  const auto& na_inputs = reader.array(reader.at("na_inputs"), "na_inputs");
  for (std::size_t i = 0; i < na_inputs.size(); ++i) {
    const std::string field = fmt::format("na_inputs[{}]", i);
    const auto& pair = reader.array(na_inputs[i], field, 2);
    if (pair.size() != 2) reader.bad(field, "is not an [input, classes] pair");
    const double x = reader.finite(pair[0], field, std::numeric_limits<double>::max());
    if (x < 0) reader.bad(field, fmt::format("holds the input {}; it must be >= 0", x));
    na_inputs_.emplace_back(x, static_cast<std::size_t>(reader.integer(
                                   pair[1], field, 0, std::numeric_limits<std::int64_t>::max())));
  }
  const auto& tasks = reader.array(reader.at("task_contexts"), "task_contexts");
  const auto contexts = static_cast<std::int64_t>(network_->context_count());
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    const std::string field = fmt::format("task_contexts[{}]", i);
    const auto& pair = reader.array(tasks[i], field, 2);
    if (pair.size() != 2) reader.bad(field, "is not a [task, context] pair");
    const auto task = reader.integer(pair[0], field, std::numeric_limits<std::int64_t>::min(),
                                     std::numeric_limits<std::int64_t>::max());
    const auto context = reader.integer(pair[1], field, 0, contexts - 1);
    if (!task_contexts_.emplace(task, static_cast<std::int32_t>(context)).second) {
      reader.bad(field, fmt::format("repeats task {}", task));
    }
  }
}

// The optimizer state per trainable tensor ("name@context", and "log_std" for a Gaussian
// policy): each of a tensor the agent has, with first and second moments of its size.
void Agent::restore_optimizer_state(const StateReader& reader) {
  std::map<std::string, std::size_t> sizes;
  for (const auto& info : network_->parameters()) {
    if (info.trainable) sizes[fmt::format("{}@{}", info.name, info.context)] = info.size();
  }
  if (!discrete_) sizes["log_std"] = action_dim_;
  const auto& entries = reader.at("optimizer");
  if (!entries.is_object()) reader.bad("optimizer", "is not a JSON object");
  for (const auto& [key, entry] : entries.items()) {
    const std::string field = "optimizer." + key;
    const auto size = sizes.find(key);
    if (size == sizes.end()) reader.bad(field, "is the state of a tensor the agent does not have");
    OptimizerState state;
    state.first = reader.floats(reader.member(entry, "first", field + ".first"), field + ".first",
                                size->second);
    state.second = reader.floats(reader.member(entry, "second", field + ".second"),
                                 field + ".second", size->second);
    state.steps = reader.integer(reader.member(entry, "steps", field + ".steps"), field + ".steps",
                                 0, std::numeric_limits<std::int64_t>::max());
    optimizer_state_[key] = std::move(state);
  }
}

Agent Agent::load(const std::filesystem::path& path,
                  std::optional<neuromod::MatmulPrecision> precision) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw CheckpointError(
        fmt::format("checkpoint {} does not exist or cannot be read", path.string()));
  const std::string data((std::istreambuf_iterator<char>(in)), {});
  const auto corrupt = [&](std::string_view why) {
    return CheckpointError(fmt::format("checkpoint {} is unusable: {}", path.string(), why));
  };
  if (data.size() < sizeof(kMagic) + 4 + 8 + 8 + 8 ||
      std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0) {
    throw corrupt("not a locus agent checkpoint (bad magic or too short)");
  }
  auto get_u64 = [&](std::size_t offset) {
    std::uint64_t v = 0;
    for (int b = 0; b < 8; ++b)
      v |= std::uint64_t(static_cast<unsigned char>(data[offset + b])) << (8 * b);
    return v;
  };
  std::uint32_t version = 0;
  for (int b = 0; b < 4; ++b) {
    version |= std::uint32_t(static_cast<unsigned char>(data[sizeof(kMagic) + b])) << (8 * b);
  }
  if (version != kFormatVersion) {
    throw corrupt(fmt::format("format version {}, this build reads {}", version, kFormatVersion));
  }
  const std::size_t body = data.size() - 8;
  if (fnv1a(data.substr(0, body)) != get_u64(body)) throw corrupt("checksum mismatch (corrupt)");
  try {
    return load_body(path, data, get_u64(sizeof(kMagic) + 4), precision);
  } catch (const nlohmann::json::exception& e) {
    throw corrupt(fmt::format("bad state record: {}", e.what()));
  } catch (const ConfigError& e) {
    throw corrupt(fmt::format("bad configuration: {}", e.what()));
  }
}

Agent Agent::load_body(const std::filesystem::path& path, const std::string& data,
                       std::uint64_t header_size,
                       std::optional<neuromod::MatmulPrecision> precision) {
  const auto corrupt = [&](std::string_view why) {
    return CheckpointError(fmt::format("checkpoint {} is unusable: {}", path.string(), why));
  };
  auto get_u64 = [&](std::size_t offset) {
    std::uint64_t v = 0;
    for (int b = 0; b < 8; ++b)
      v |= std::uint64_t(static_cast<unsigned char>(data[offset + b])) << (8 * b);
    return v;
  };
  const std::size_t body = data.size() - 8;
  std::size_t offset = sizeof(kMagic) + 4 + 8;
  if (header_size > body - offset) throw corrupt("truncated header");
  const nlohmann::json state = nlohmann::json::parse(data.substr(offset, header_size));
  offset += header_size;
  const std::uint64_t network_size = get_u64(offset);
  offset += 8;
  if (network_size != body - offset) throw corrupt("truncated network");

  AgentConfig config = AgentConfig::from_json(state.at("config"));
  if (precision) config.precision = *precision;
  Agent agent(config);
  try {
    const std::span<const unsigned char> network_bytes(
        reinterpret_cast<const unsigned char*>(data.data()) + offset, network_size);
    auto network = neuromod::decode_checkpoint(
        network_bytes, fmt::format("the network in {}", path.string()), agent.config_.device);
    set_precision(*network, agent.config_.precision);
    if (neuromod::to_json(network->spec()) != neuromod::to_json(agent.network_->spec())) {
      throw corrupt("its network does not match its config");
    }
    network->set_gradient_mode(agent.network_->gradient_mode());
    agent.network_ = std::move(network);
  } catch (const neuromod::CheckpointError& e) {
    throw corrupt(e.what());
  }
  agent.restore_state(StateReader(path, state));
  if (agent.noradrenaline_) {
    // The signal's running statistics are rebuilt by replaying its inputs.
    agent.noradrenaline_.emplace(agent.noradrenaline_config());
    for (const auto& [x, classes] : agent.na_inputs_) agent.noradrenaline_->observe(x, classes);
    agent.noradrenaline_->apply(*agent.network_);
  }
  agent.begin_segment();
  return agent;
}

}  // namespace locus::agents
