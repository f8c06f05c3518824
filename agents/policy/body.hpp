#pragma once
// PolicyBody: the network part of a policy. It maps observations to the outputs of the network's
// "policy" and "value" heads, and carries, for a recurrent body, each env's state from step to
// step. The agent acts, bootstraps, learns and evaluates through it alone, so a feed-forward and a
// recurrent policy share every other line of the agent.
//
// Learning passes come in minibatches the body cuts from a rollout of `steps` x `envs` rows
// (time-major, row t * envs + e):
//  - feed-forward: any rows (PPO shuffles transitions);
//  - recurrent: whole env sequences, from the state stored at the rollout's first step, so the
//    states are recomputed by the current parameters at every pass (no padding: every sequence
//    has the rollout's length; episode starts inside it zero the state and stop the gradient).

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "agents/random.hpp"
#include "neuromod/network.hpp"

namespace locus::agents {

using neuromod::ContextId;
using neuromod::Matrix;
using neuromod::RecurrentState;

// Rows of a rollout learned from together, and (recurrent bodies) the env sequences they form:
// rows[j * envs.size() + k] is env envs[k] at step j.
struct Minibatch {
  std::vector<std::size_t> rows;
  std::vector<std::size_t> envs;
};

class PolicyBody {
 public:
  explicit PolicyBody(neuromod::Network& network) : network_(&network) {}
  virtual ~PolicyBody() = default;

  virtual bool recurrent() const = 0;
  // The state of `batch` envs before their first step (empty for a feed-forward body).
  virtual RecurrentState initial_state(std::size_t batch) const = 0;

  // One step of `batch` envs: inputs (batch, input_dim); starts[i] != 0 where env i's observation
  // begins an episode (its state is zeroed first). Advances `state`.
  virtual const std::vector<Matrix>& act(const Matrix& inputs, std::span<const std::uint8_t> starts,
                                         RecurrentState& state) = 0;
  // The outputs for inputs of some envs (one row each, env envs[k] for row k) from those envs'
  // states, without advancing them: the value of a truncated episode's final observation, or of
  // the observation after a rollout's last step.
  virtual const std::vector<Matrix>& peek(const Matrix& inputs, std::span<const std::size_t> envs,
                                          const RecurrentState& state) = 0;
  // A learning (or scoring) pass over rows of a rollout gathered in the minibatch's order, with
  // their episode-start flags; `initial` is the rollout's initial state of all its envs, and
  // `contexts` (empty: the selected context) one context per row. backward() may follow.
  virtual const std::vector<Matrix>& forward(const Matrix& inputs, const Minibatch& batch,
                                             std::span<const std::uint8_t> starts,
                                             const RecurrentState& initial,
                                             std::span<const ContextId> contexts = {}) = 0;
  // The rollout cut into `count` minibatches, in an order drawn from `random` (count 1: every row
  // in rollout order, nothing drawn).
  virtual std::vector<Minibatch> minibatches(std::size_t steps, std::size_t envs, std::size_t count,
                                             AgentRandom& random) const = 0;
  // The largest minibatch count a rollout of `envs` envs and `steps` steps can be cut into.
  virtual std::size_t max_minibatches(std::size_t steps, std::size_t envs) const = 0;

  neuromod::Network& network() { return *network_; }
  // The body of a network that was replaced (a checkpoint's) keeps serving.
  void rebind(neuromod::Network& network) { network_ = &network; }

 protected:
  neuromod::Network* network_;
};

// The body for `network`: recurrent when its spec has a recurrent layer.
std::unique_ptr<PolicyBody> make_policy_body(neuromod::Network& network);

// 0 .. n-1 in `count` groups of n / count (the last takes the remainder), shuffled first
// (Fisher-Yates on `random`) unless count is 1: how both bodies cut a rollout.
std::vector<std::vector<std::size_t>> shuffled_groups(std::size_t n, std::size_t count,
                                                      AgentRandom& random);

// Rows `envs` of every tensor of a state.
RecurrentState gather_state(const RecurrentState& state, std::span<const std::size_t> envs);

}  // namespace locus::agents
