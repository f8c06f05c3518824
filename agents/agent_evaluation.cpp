// Agent::evaluate: the greedy policy on fresh episodes of separate envs.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "agents/agent.hpp"
#include "agents/agent_env.hpp"
#include "agents/errors.hpp"
#include "envs/registry.hpp"
#include "util/hash.hpp"

namespace locus::agents {
namespace {

// What the evaluation saw, per returned episode and in total.
struct EvaluationCounts {
  std::vector<double> returns, lengths;
  std::size_t trials = 0, correct = 0;
};

EvalResult summarize(const EvaluationCounts& counts, const envs::EnvSpec* spec) {
  const auto& returns = counts.returns;
  EvalResult result;
  result.episodes = returns.size();
  if (!returns.empty()) {
    const double mean = std::accumulate(returns.begin(), returns.end(), 0.0) / returns.size();
    double var = 0.0;
    for (double x : returns) var += (x - mean) * (x - mean);
    result.mean_return = mean;
    result.std_return = std::sqrt(var / double(returns.size()));
    result.mean_length =
        std::accumulate(counts.lengths.begin(), counts.lengths.end(), 0.0) / returns.size();
  }
  result.trials = counts.trials;
  result.trials_correct = counts.correct;
  if (counts.trials > 0) {
    result.success_rate = double(counts.correct) / double(counts.trials);
  } else if (spec != nullptr && spec->reward_threshold && !returns.empty()) {
    const auto reached = std::count_if(returns.begin(), returns.end(),
                                       [&](double x) { return x >= *spec->reward_threshold; });
    result.success_rate = double(reached) / double(returns.size());
  } else {
    result.success_rate = std::numeric_limits<double>::quiet_NaN();
  }
  return result;
}

}  // namespace

EvalResult Agent::evaluate(std::size_t episodes, std::optional<std::uint64_t> seed) {
  if (episodes == 0) throw ConfigError("evaluate: episodes must be positive, got 0");
  const std::size_t n = std::min<std::size_t>(episodes, 8);
  const std::size_t input_dim = encoder_.input_dim(), width = head_->action_width();
  envs::VectorEnv env = make_agent_env(config_, n);
  env.reset(seed.value_or(util::mix_seed(config_.seed, 99)));
  std::vector<float> inputs(n * input_dim, 0.0f);
  for (std::size_t i = 0; i < n; ++i) encoder_.push(inputs, i, env.observation_bytes(i), true);
  RecurrentState state = body_->initial_state(n);
  std::vector<std::uint8_t> starts(n, 1);
  EvaluationCounts counts;
  std::vector<double> running(n, 0.0), running_length(n, 0.0);
  // Trials count with the episode they belong to, once it is among the returned episodes.
  std::vector<std::size_t> running_trials(n, 0), running_correct(n, 0);
  std::vector<float> actions(n * width);
  Matrix batch({n, input_dim});
  const std::size_t max_steps = episodes * 100000;
  for (std::size_t step = 0; counts.returns.size() < episodes && step < max_steps; ++step) {
    std::copy(inputs.begin(), inputs.end(), batch.data());
    const auto& out = body_->act(batch, starts, state);
    for (std::size_t i = 0; i < n; ++i) {
      head_->greedy(matrix_row(out[0], i), std::span<float>(actions).subspan(i * width, width));
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
        if (counts.returns.size() < episodes) {
          counts.returns.push_back(running[i]);
          counts.lengths.push_back(running_length[i]);
          counts.trials += running_trials[i];
          counts.correct += running_correct[i];
        }
        running[i] = 0.0;
        running_length[i] = 0.0;
        running_trials[i] = running_correct[i] = 0;
      }
      encoder_.push(inputs, i, env.observation_bytes(i), ended);
      starts[i] = ended ? 1 : 0;
    }
  }
  return summarize(counts, env_.spec());
}
}  // namespace locus::agents
