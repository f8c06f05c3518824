#pragma once
// A recurrent policy body (Elman, GRU or LSTM layers, neuromod/recurrent_layer.hpp): acting runs
// one step of every env's sequence through Network::forward_sequence, carrying each env's state;
// learning runs whole env sequences of the rollout from their stored initial states, and
// backward() then backpropagates through the rollout (truncated BPTT over its steps).

#include "agents/policy/body.hpp"

namespace locus::agents {

class RecurrentBody final : public PolicyBody {
 public:
  using PolicyBody::PolicyBody;

  bool recurrent() const override { return true; }
  RecurrentState initial_state(std::size_t batch) const override;
  const std::vector<Matrix>& act(const Matrix& inputs, std::span<const std::uint8_t> starts,
                                 RecurrentState& state) override;
  const std::vector<Matrix>& peek(const Matrix& inputs, std::span<const std::size_t> envs,
                                  const RecurrentState& state) override;
  const std::vector<Matrix>& forward(const Matrix& inputs, const Minibatch& batch,
                                     std::span<const std::uint8_t> starts,
                                     const RecurrentState& initial,
                                     std::span<const ContextId> contexts) override;
  std::vector<Minibatch> minibatches(std::size_t steps, std::size_t envs, std::size_t count,
                                     AgentRandom& random) const override;
  std::size_t max_minibatches(std::size_t, std::size_t envs) const override { return envs; }
};

}  // namespace locus::agents
