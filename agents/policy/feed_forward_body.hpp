#pragma once
// A feed-forward policy body: every row is independent; no state.

#include "agents/policy/body.hpp"

namespace locus::agents {

class FeedForwardBody final : public PolicyBody {
 public:
  using PolicyBody::PolicyBody;

  bool recurrent() const override { return false; }
  RecurrentState initial_state(std::size_t) const override { return {}; }
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
  std::size_t max_minibatches(std::size_t steps, std::size_t envs) const override {
    return steps * envs;
  }
};

}  // namespace locus::agents
