#pragma once
// The actor-critic losses of A2C, PPO and REINFORCE, written once against ActionHead, on the
// outputs of a minibatch:
//   policy term  A2C / REINFORCE: -mean(A log pi(a|s))
//                PPO:             -mean(min(rho A, clip(rho, 1 - eps, 1 + eps) A)),
//                                 rho = exp(log pi(a|s) - log pi_old(a|s))
//   value term   mean((V - R)^2); with PPO's value_clip > 0,
//                mean(max((V - R)^2, (V_old + clip(V - V_old, -c, c) - R)^2))
//   total        policy + value_coef * value - entropy_coef * mean(H(pi))
// The gradients with respect to the outputs (what Network::backward takes) are written, and the
// head's own parameters (a Gaussian log std) receive theirs.

#include <span>

#include "agents/policy/action_head.hpp"

namespace locus::agents {

struct LossSettings {
  bool clipped = false;  // PPO's clipped surrogate
  float clip_epsilon = 0.2f;
  float value_clip = 0.0f;  // PPO only, > 0 to clip
  float value_coef = 0.5f;
  float entropy_coef = 0.01f;
};

// A minibatch's targets, one per row.
struct LossTargets {
  const Matrix& actions;
  std::span<const float> advantages, returns, old_log_probs, old_values;
};

struct LossTerms {
  double total = 0, policy = 0, value = 0, entropy = 0;
  double approx_kl = 0;      // PPO: mean(log pi_old - log pi)
  double clip_fraction = 0;  // PPO: share of rows with |rho - 1| > eps (SB3's clip_fraction)
};

// policy (rows, head.units()) and value (rows, 1) outputs. Resizes and writes policy_gradient and
// value_gradient.
LossTerms actor_critic_loss(ActionHead& head, const Matrix& policy, const Matrix& value,
                            const LossTargets& targets, const LossSettings& settings,
                            Matrix& policy_gradient, Matrix& value_gradient);

}  // namespace locus::agents
