#include "agents/policy/feed_forward_body.hpp"

namespace locus::agents {

const std::vector<Matrix>& FeedForwardBody::act(const Matrix& inputs,
                                                std::span<const std::uint8_t> /*starts*/,
                                                RecurrentState& /*state*/) {
  return network_->forward(inputs);
}

const std::vector<Matrix>& FeedForwardBody::peek(const Matrix& inputs,
                                                 std::span<const std::size_t> /*envs*/,
                                                 const RecurrentState& /*state*/) {
  return network_->forward(inputs);
}

const std::vector<Matrix>& FeedForwardBody::forward(const Matrix& inputs,
                                                    const Minibatch& /*batch*/,
                                                    std::span<const std::uint8_t> /*starts*/,
                                                    const RecurrentState& /*initial*/,
                                                    std::span<const ContextId> contexts) {
  return network_->forward(inputs, contexts);
}

std::vector<Minibatch> FeedForwardBody::minibatches(std::size_t steps, std::size_t envs,
                                                    std::size_t count, AgentRandom& random) const {
  std::vector<Minibatch> batches;
  for (auto& rows : shuffled_groups(steps * envs, count, random)) {
    batches.push_back(Minibatch{std::move(rows), {}});
  }
  return batches;
}

}  // namespace locus::agents
