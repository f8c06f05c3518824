#include "agents/losses.hpp"

#include <algorithm>
#include <cmath>

namespace locus::agents {
namespace {

// The policy term and, per row, its derivative with respect to log pi (the scale the head's
// log-probability gradient is taken with).
double policy_term(std::span<const float> log_probs, const LossTargets& targets,
                   const LossSettings& settings, std::span<float> scale, LossTerms& terms) {
  const std::size_t rows = log_probs.size();
  double sum = 0.0, kl = 0.0;
  std::size_t clipped_rows = 0;
  for (std::size_t k = 0; k < rows; ++k) {
    const double advantage = targets.advantages[k];
    double weight = advantage;  // d(objective) / d(log pi)
    if (settings.clipped) {
      const double ratio = std::exp(double(log_probs[k]) - targets.old_log_probs[k]);
      const double eps = settings.clip_epsilon;
      const double unclipped = ratio * advantage;
      const double clipped = std::clamp(ratio, 1.0 - eps, 1.0 + eps) * advantage;
      sum += -std::min(unclipped, clipped);
      kl += double(targets.old_log_probs[k]) - log_probs[k];
      if (std::abs(ratio - 1.0) > eps) clipped_rows += 1;
      // Where the clipped term is the smaller, it is constant in the parameters.
      weight = clipped < unclipped ? 0.0 : ratio * advantage;
    } else {
      sum += -advantage * log_probs[k];
    }
    scale[k] = static_cast<float>(-weight / double(rows));
  }
  terms.approx_kl = kl / double(rows);
  terms.clip_fraction = double(clipped_rows) / double(rows);
  return sum / double(rows);
}

double value_term(const Matrix& value, const LossTargets& targets, const LossSettings& settings,
                  Matrix& gradient) {
  const std::size_t rows = value.shape()[0];
  const float c = settings.value_clip;
  double sum = 0.0;
  for (std::size_t k = 0; k < rows; ++k) {
    const float v = value(k, 0), target = targets.returns[k];
    const float plain = (v - target) * (v - target);
    float derivative = 2.0f * (v - target);
    if (c > 0) {
      const float old = targets.old_values[k];
      const float v_clipped = old + std::clamp(v - old, -c, c);
      const float clipped = (v_clipped - target) * (v_clipped - target);
      sum += std::max(plain, clipped);
      if (plain < clipped) derivative = 0.0f;  // the clipped branch is constant in V
    } else {
      sum += plain;
    }
    gradient(k, 0) = settings.value_coef * derivative / float(rows);
  }
  return sum / double(rows);
}

}  // namespace

LossTerms actor_critic_loss(ActionHead& head, const Matrix& policy, const Matrix& value,
                            const LossTargets& targets, const LossSettings& settings,
                            Matrix& policy_gradient, Matrix& value_gradient) {
  const std::size_t rows = policy.shape()[0];
  LossTerms terms;
  std::vector<float> log_probs(rows), scale(rows);
  head.log_probs(policy, targets.actions, log_probs);
  terms.policy = policy_term(log_probs, targets, settings, scale, terms);
  policy_gradient = Matrix({rows, policy.shape()[1]});
  std::fill(policy_gradient.data(), policy_gradient.data() + policy_gradient.size(), 0.0f);
  head.add_log_prob_gradient(policy, targets.actions, scale, policy_gradient);
  terms.entropy = head.entropy(policy, -settings.entropy_coef, policy_gradient);
  value_gradient = Matrix({rows, 1});
  terms.value = value_term(value, targets, settings, value_gradient);
  terms.total =
      terms.policy + settings.value_coef * terms.value - settings.entropy_coef * terms.entropy;
  return terms;
}

}  // namespace locus::agents
