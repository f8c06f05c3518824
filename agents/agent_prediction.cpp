// Agent::predict: the trained policy on observations that come from outside its envs
// (locus.load(run_dir).predict in Python, as Stable-Baselines3's predict).
#include <fmt/format.h>

#include <algorithm>

#include "agents/agent.hpp"
#include "agents/errors.hpp"

namespace locus::agents {

std::size_t Agent::action_width() const {
  return head_->action_width();
}

Agent::Prediction Agent::start_prediction(std::size_t batch, std::uint64_t seed) const {
  if (batch == 0) throw ConfigError("predict: the batch of observations is empty");
  return Prediction{std::vector<float>(batch * encoder_.input_dim(), 0.0f),
                    body_->initial_state(batch), AgentRandom(seed)};
}

void Agent::predict(std::span<const std::byte> observations,
                    std::span<const std::uint8_t> episode_starts, bool deterministic,
                    Prediction& memory, std::span<float> actions) {
  const std::size_t batch = episode_starts.size(), input_dim = encoder_.input_dim();
  const std::size_t observation_bytes = env_.single_observation_space().packed_bytes();
  const std::size_t width = head_->action_width();
  if (batch == 0 || memory.inputs.size() != batch * input_dim) {
    throw ConfigError(fmt::format(
        "predict: {} observations for a memory of {} streams; start a new prediction (state=None) "
        "for another batch size",
        batch, memory.inputs.size() / std::max<std::size_t>(input_dim, 1)));
  }
  if (observations.size() != batch * observation_bytes || actions.size() != batch * width) {
    throw ConfigError(fmt::format(
        "predict: {} bytes of observations and room for {} action floats, expected {} x {} bytes "
        "and {} x {}",
        observations.size(), actions.size(), batch, observation_bytes, batch, width));
  }
  for (std::size_t i = 0; i < batch; ++i) {
    encoder_.push(memory.inputs, i, observations.subspan(i * observation_bytes, observation_bytes),
                  episode_starts[i] != 0);
  }
  Matrix rows({batch, input_dim});
  std::copy(memory.inputs.begin(), memory.inputs.end(), rows.data());
  const auto& out = body_->act(rows, episode_starts, memory.state);
  double entropy = 0.0;
  for (std::size_t i = 0; i < batch; ++i) {
    const std::span<float> action = actions.subspan(i * width, width);
    if (deterministic) {
      head_->greedy(matrix_row(out[0], i), action);
    } else {
      head_->sample(matrix_row(out[0], i), memory.random, action, entropy);
    }
  }
}

}  // namespace locus::agents
