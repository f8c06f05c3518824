#include "agents/policy/feed_forward_body.hpp"

#include <numeric>

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
  const std::size_t rows = steps * envs;
  std::vector<std::size_t> order(rows);
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (count > 1) {
    for (std::size_t k = rows; k-- > 1;) std::swap(order[k], order[random.below(k + 1)]);
  }
  // Equal shares; the last takes the remainder.
  const std::size_t size = rows / count;
  std::vector<Minibatch> batches(count);
  for (std::size_t b = 0; b < count; ++b) {
    const std::size_t end = b + 1 == count ? rows : (b + 1) * size;
    batches[b].rows.assign(order.begin() + std::ptrdiff_t(b * size),
                           order.begin() + std::ptrdiff_t(end));
  }
  return batches;
}

}  // namespace locus::agents
