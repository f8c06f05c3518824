#pragma once
// EWC and replay for the RL agents across a task sequence (continual RL), for RlLearner (rl.hpp):
// A2C, PPO and REINFORCE alike, on an ordinary (network: trainable) feed-forward policy (policy:
// mlp) with one context (contexts: fixed). They act through the agent's gradient hook
// (Agent::set_gradient_hook): their gradient joins the RL loss's after every minibatch's
// backward() and before its step().
//
// Both start from a finished task's states: during a task, every observation row the policy acted
// on (Agent::rollout_inputs) is offered to a reservoir of that task (ReplayMemory,
// replay_memory.hpp), which thus holds a uniform sample of the states the task visited.
//
// EWC (ewc_lambda > 0; Kirkpatrick et al. 2017, online: Schwarz et al. 2018). At a task's end the
// importance of each weight is the diagonal of the policy's Fisher information on ewc_samples of
// those states,
//   F_i = mean_s E_{a ~ pi(.|s)} [(d log pi(a|s) / d theta_i)^2],
// the squared gradient of the log-probability of the policy's own actions, not of its policy loss:
// the loss's gradient is weighted by advantages, which average to zero on a learned task, so its
// square would measure the noise of the advantage estimates rather than how much the policy's
// choices depend on the weight. The expectation over actions is taken exactly (a sum over a
// categorical's actions weighted by pi(a|s); a Gaussian's Fisher of its mean is 1 / sigma^2)
// rather than on one drawn action: no sampling noise, and no draw from any random stream. The
// penalty is the supervised EWC's (ewc.hpp) QuadraticPenalty (quadratic_penalty.hpp), combined as
// there: lambda/2 sum F (theta - theta*)^2, one term per task, or one running term (ewc_online:
// F <- ewc_gamma F + F_new, theta* the latest weights). Only the Fisher differs from ewc.hpp's,
// whose cross-entropy needs labels.
// It covers the network's trainable shared weights; the heads' per-context biases and a
// Gaussian's log std (the agent's own tensor) are not protected, and the value head's weights get
// no importance (the log-probability does not depend on them).
//
// Replay (replay_memory > 0): behaviour-cloning replay as CLEAR's cloning terms (Rolnick et al.
// 2019, "Experience Replay for Continual Learning"). At a task's end each state kept for it is
// labelled with the policy's outputs then (logits, or a Gaussian's mean) and its value, and
// offered to the long-term memory (a reservoir of replay_memory examples), which holds a uniform
// sample of every finished task's states. During later tasks every minibatch adds, on replay_batch
// examples drawn from it,
//   replay_kl_weight x mean KL(pi_stored(.|s) || pi(.|s)) + replay_value_weight x mean
//   (V(s) - V_stored(s))^2.
// The targets are the policy's at the task's end, not at collection as in CLEAR: CLEAR corrects
// its off-policy replay with V-trace, which these on-policy agents lack, and a state collected
// early in a task would clone that task's untrained policy. A Gaussian's KL is taken with the
// current sigma on both sides (its log std is outside the network, so it is not distilled).

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "bench/harness/methods/ewc.hpp"
#include "bench/harness/methods/quadratic_penalty.hpp"
#include "bench/harness/methods/replay_memory.hpp"
#include "neuromod/network.hpp"

namespace locus::bench {

// The settings (RL run settings of the same names; both off by default).
struct RlContinualConfig {
  EwcConfig ewc;                     // ewc_lambda, ewc_online, ewc_gamma; lambda 0: off
  std::int64_t ewc_samples = 256;    // states per task the Fisher is averaged over
  std::int64_t replay_memory = 0;    // long-term memory in examples; 0: off
  std::int64_t replay_batch = 64;    // replayed examples per minibatch
  double replay_kl_weight = 1.0;     // weight of the policy's KL
  double replay_value_weight = 0.5;  // weight of the value's squared error

  bool ewc_on() const { return ewc.lambda > 0.0; }
  bool replay_on() const { return replay_memory > 0; }
  bool enabled() const { return ewc_on() || replay_on(); }
  // Throws InvalidArgumentError naming the bad value.
  void validate() const;
};

// The action distribution a policy's outputs define: categorical over logits (log_std empty), or
// Gaussian around the outputs with standard deviations exp(log_std) (the agent's
// state-independent log std).
struct PolicyDistribution {
  std::vector<float> log_std;
  bool categorical() const { return log_std.empty(); }
};

// The diagonal Fisher information of the policy at `states` (rows of network input), as the
// importance of the network's trainable shared weights, anchored at the weights now. Leaves the
// parameters and the optimizer state as they were; the gradients are zeroed.
PenaltyTerm policy_fisher(neuromod::Network& network, const neuromod::Matrix& states,
                          const PolicyDistribution& distribution);

struct DistillationWeights {
  double kl = 1.0;
  double value = 0.5;
};

// The replay's distillation loss of outputs `policy` (rows, units) and `value` (rows, 1) against
// stored targets: weights.kl x mean KL(target || policy) + weights.value x mean (value -
// target)^2. Writes its gradients with respect to the outputs (resized to their shapes).
double distillation_loss(const PolicyDistribution& distribution, const neuromod::Matrix& policy,
                         const neuromod::Matrix& value, const neuromod::Matrix& target_policy,
                         std::span<const float> target_value, const DistillationWeights& weights,
                         neuromod::Matrix& policy_gradient, neuromod::Matrix& value_gradient);

// EWC and replay for one RlLearner: what it keeps between tasks and the gradient it adds.
class RlContinualMethods {
 public:
  RlContinualMethods(const RlContinualConfig& config, std::uint64_t seed);

  // Offers the rows of a rollout (Agent::rollout_inputs) to the current task's reservoir.
  void observe(const neuromod::Matrix& rollout_inputs);
  // The task `task` has ended: its Fisher joins the penalty and its states, labelled with the
  // policy's outputs now, join the long-term memory; the next task's reservoir starts empty.
  void end_task(neuromod::Network& network, const PolicyDistribution& distribution,
                std::int64_t task);
  // The gradient hook: adds the penalty's and the distillation's gradients to the network's.
  void add_gradients(neuromod::Network& network, const PolicyDistribution& distribution);
  // Bytes kept: the stored examples and the penalty's importances and anchors.
  std::int64_t bytes() const;

  const QuadraticPenalty& penalty() const { return penalty_; }
  const ReplayMemory* memory() const { return memory_ ? &*memory_ : nullptr; }

 private:
  // The task's states as one matrix (`count` drawn from its reservoir).
  neuromod::Matrix task_states(std::int64_t count);
  void remember(neuromod::Network& network, std::int64_t task);
  void replay(neuromod::Network& network, const PolicyDistribution& distribution);

  RlContinualConfig config_;
  std::uint64_t seed_;
  QuadraticPenalty penalty_;
  std::int64_t input_dim_ = 0;
  std::int64_t tasks_ended_ = 0;
  ReplayMemory task_states_;            // this task's states
  std::optional<ReplayMemory> memory_;  // replay: every finished task's labelled states
  neuromod::Matrix replay_inputs_;      // replay's minibatch, sized once
};

}  // namespace locus::bench
