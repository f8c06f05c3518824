#pragma once
// Losses on a head's output and their gradients with respect to it (what Network::backward takes),
// each with a plain reference (double accumulation) beside the fast version, plus the softmax
// entropy that NGM and noradrenaline read and the actor-critic loss that agents use.
//
// Every loss is the mean over the batch rows; the gradient is of that mean.

#include <cstdint>
#include <span>

#include "neuromod/network.hpp"

namespace locus::neuromod {

enum class EntropyUnit { kNats, kBits };
std::string_view to_string(EntropyUnit unit);

// Mean over rows of -log softmax(logits)[label]. Labels must be in [0, cols). If `gradient` is not
// null it is resized to logits' shape and receives (softmax - onehot) / rows.
double softmax_cross_entropy(const Matrix& logits, std::span<const std::int32_t> labels,
                             Matrix* gradient = nullptr);
double softmax_cross_entropy_reference(const Matrix& logits, std::span<const std::int32_t> labels,
                                       Matrix* gradient = nullptr);

// The squared error averaged over every element, as torch.nn.MSELoss(reduction="mean"); the
// gradient is 2 (prediction - target) / (rows * cols).
double mean_squared_error(const Matrix& prediction, const Matrix& target,
                          Matrix* gradient = nullptr);
double mean_squared_error_reference(const Matrix& prediction, const Matrix& target,
                                    Matrix* gradient = nullptr);

// Batch-mean entropy of softmax(logits), in nats or bits (NGM's H).
double mean_softmax_entropy(const Matrix& logits, EntropyUnit unit = EntropyUnit::kNats);
double mean_softmax_entropy_reference(const Matrix& logits, EntropyUnit unit = EntropyUnit::kNats);

// Rows whose arg-max logit equals the label (ties: the first maximum).
std::size_t count_correct(const Matrix& logits, std::span<const std::int32_t> labels);

// Actor-critic loss on the "policy" and "value" heads (spec.hpp's set_actor_critic_heads):
//   A2C:  L = -mean(A log pi(a|s)) + value_coef * mean((V - R)^2) - entropy_coef * mean(H(pi))
//   PPO:  the policy term becomes -mean(min(rho A, clip(rho, 1 - eps, 1 + eps) A)), rho =
//         pi(a|s) / pi_old(a|s), when old_log_probs is given and clip_epsilon > 0.
struct ActorCriticCoefficients {
  float value_coef = 0.5f;
  float entropy_coef = 0.01f;
  float clip_epsilon = 0.2f;  // PPO only
};
struct ActorCriticLoss {
  double total = 0.0;
  double policy = 0.0;         // the policy term as defined above
  double value = 0.0;          // mean((V - R)^2), before value_coef
  double entropy = 0.0;        // mean entropy (nats)
  double clip_fraction = 0.0;  // PPO: share of rows where the clipped term won (no gradient)
  double approx_kl = 0.0;      // PPO: mean(old_log_prob - log_prob)
};
// policy_logits (rows, actions), values (rows, 1); actions, advantages, returns (rows);
// old_log_probs empty (A2C) or (rows) (PPO). Writes the gradients for Network::backward.
ActorCriticLoss actor_critic_loss(const Matrix& policy_logits, const Matrix& values,
                                  std::span<const std::int32_t> actions,
                                  std::span<const float> advantages, std::span<const float> returns,
                                  std::span<const float> old_log_probs,
                                  const ActorCriticCoefficients& coefficients,
                                  Matrix* policy_gradient, Matrix* value_gradient);

// log softmax(logits)[row, actions[row]] per row (what a PPO rollout stores as old_log_probs).
std::vector<float> log_probabilities(const Matrix& logits, std::span<const std::int32_t> actions);

}  // namespace locus::neuromod
