#include "agents/policy/recurrent_body.hpp"

namespace locus::agents {

RecurrentState RecurrentBody::initial_state(std::size_t batch) const {
  return network_->zero_state(batch);
}

const std::vector<Matrix>& RecurrentBody::act(const Matrix& inputs,
                                              std::span<const std::uint8_t> starts,
                                              RecurrentState& state) {
  const std::size_t batch = inputs.shape()[0];
  const auto& outputs = network_->forward_sequence(inputs, batch, {}, &state, starts);
  state = network_->final_state();
  return outputs;
}

const std::vector<Matrix>& RecurrentBody::peek(const Matrix& inputs,
                                               std::span<const std::size_t> envs,
                                               const RecurrentState& state) {
  const RecurrentState rows = gather_state(state, envs);
  return network_->forward_sequence(inputs, envs.size(), {}, &rows);
}

const std::vector<Matrix>& RecurrentBody::forward(const Matrix& inputs, const Minibatch& batch,
                                                  std::span<const std::uint8_t> starts,
                                                  const RecurrentState& initial,
                                                  std::span<const ContextId> contexts) {
  const RecurrentState sequences = gather_state(initial, batch.envs);
  return network_->forward_sequence(inputs, batch.envs.size(), contexts, &sequences, starts);
}

std::vector<Minibatch> RecurrentBody::minibatches(std::size_t steps, std::size_t envs,
                                                  std::size_t count, AgentRandom& random) const {
  std::vector<Minibatch> batches;
  for (auto& group : shuffled_groups(envs, count, random)) {
    Minibatch batch;
    batch.envs = std::move(group);
    batch.rows.reserve(steps * batch.envs.size());
    for (std::size_t t = 0; t < steps; ++t) {
      for (std::size_t e : batch.envs) batch.rows.push_back(t * envs + e);
    }
    batches.push_back(std::move(batch));
  }
  return batches;
}

}  // namespace locus::agents
