#include "neuromod/dopamine.hpp"

#include <fmt/format.h>

#include <cmath>

#include "neuromod/errors.hpp"

namespace locus::neuromod {

void DopamineConfig::validate() const {
  if (!(gamma >= 0 && gamma <= 1)) {
    throw InvalidArgumentError(fmt::format("dopamine: gamma = {} must be in [0, 1]", gamma));
  }
  if (!(lambda >= 0 && lambda <= 1)) {
    throw InvalidArgumentError(fmt::format("dopamine: lambda = {} must be in [0, 1]", lambda));
  }
}

DopamineSignal::DopamineSignal(const DopamineConfig& config) : config_(config) {
  config_.validate();
}

void DopamineSignal::record(float delta) {
  if (!config_.record_trace) return;
  if (config_.trace_capacity > 0 && trace_.size() >= config_.trace_capacity) {
    // Drop the oldest half at once: amortized O(1) per entry.
    trace_.erase(trace_.begin(), trace_.begin() + std::ptrdiff_t(trace_.size() / 2 + 1));
  }
  trace_.push_back(delta);
}

float DopamineSignal::td_error(float reward, float value, float next_value, bool terminated) {
  const float bootstrap = terminated ? 0.0f : config_.gamma * next_value;
  const float delta = reward + bootstrap - value;
  if (!std::isfinite(delta)) {
    throw NonFiniteError(
        fmt::format("dopamine: TD error {} from reward {}, value {}, next value {}", delta, reward,
                    value, next_value));
  }
  record(delta);
  return delta;
}

void DopamineSignal::td_errors(std::span<const float> rewards, std::span<const float> values,
                               std::span<const float> next_values,
                               std::span<const std::uint8_t> terminated, std::span<float> deltas) {
  const std::size_t n = rewards.size();
  if (values.size() != n || next_values.size() != n || terminated.size() != n ||
      deltas.size() != n) {
    throw ShapeError(
        fmt::format("dopamine: td_errors needs equal lengths; got rewards {}, values "
                    "{}, next values {}, terminated {}, deltas {}",
                    n, values.size(), next_values.size(), terminated.size(), deltas.size()));
  }
  for (std::size_t i = 0; i < n; ++i) {
    deltas[i] = td_error(rewards[i], values[i], next_values[i], terminated[i] != 0);
  }
}

void DopamineSignal::gae(std::size_t steps, std::size_t envs, std::span<const float> rewards,
                         std::span<const float> values, std::span<const float> next_values,
                         std::span<const std::uint8_t> terminated,
                         std::span<const std::uint8_t> truncated, std::span<float> advantages,
                         std::span<float> returns) {
  const std::size_t n = steps * envs;
  for (auto [name, size] : {std::pair{"rewards", rewards.size()},
                            {"values", values.size()},
                            {"next_values", next_values.size()},
                            {"terminated", terminated.size()},
                            {"truncated", truncated.size()},
                            {"advantages", advantages.size()},
                            {"returns", returns.size()}}) {
    if (size != n) {
      throw ShapeError(fmt::format("dopamine: gae over {} steps x {} envs needs {} {}, got {}",
                                   steps, envs, n, name, size));
    }
  }
  std::vector<float> deltas(n);
  for (std::size_t i = 0; i < n; ++i) {
    deltas[i] = td_error(rewards[i], values[i], next_values[i], terminated[i] != 0);
  }
  const float decay = config_.gamma * config_.lambda;
  for (std::size_t e = 0; e < envs; ++e) {
    float next_advantage = 0.0f;
    for (std::size_t t = steps; t-- > 0;) {
      const std::size_t i = t * envs + e;
      const bool episode_ends = terminated[i] != 0 || truncated[i] != 0;
      const float advantage = deltas[i] + (episode_ends ? 0.0f : decay * next_advantage);
      advantages[i] = advantage;
      returns[i] = advantage + values[i];
      next_advantage = advantage;
    }
  }
}

}  // namespace locus::neuromod
