#pragma once
// Dopamine: the reward-prediction error as a signal object that agents and plasticity rules read.
//   delta_t = r_t + gamma * V(s_{t+1}) * (1 - terminated_t) - V(s_t)
// It is the critic's TD target error, the actor's advantage through GAE(lambda), and the third
// factor that gates plasticity. Every delta computed is appended to the trace (if enabled), so a
// log of a learning run shows the classic shift of the response from the reward to the cue.
//
// Time limits: a truncated step still bootstraps from V(s_{t+1}) (pass the value of the final
// observation), but GAE does not carry the advantage across the episode boundary. terminated and
// truncated are separate arguments for that reason, as in Gymnasium.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace locus::neuromod {

struct DopamineConfig {
  float gamma = 0.99f;
  float lambda = 0.95f;  // GAE(lambda); 1 gives Monte Carlo advantages, 0 one-step TD
  bool record_trace = true;
  std::size_t trace_capacity = 0;  // 0: unbounded; else the oldest entries are dropped
  void validate() const;
};

class DopamineSignal {
 public:
  explicit DopamineSignal(const DopamineConfig& config = {});

  // One transition.
  float td_error(float reward, float value, float next_value, bool terminated);
  // A batch of transitions (all spans the same length); writes delta into `deltas`.
  void td_errors(std::span<const float> rewards, std::span<const float> values,
                 std::span<const float> next_values, std::span<const std::uint8_t> terminated,
                 std::span<float> deltas);

  // GAE over a rollout of `steps` x `envs` transitions, time-major (index t * envs + e):
  //   delta_t = r_t + gamma V(s_{t+1}) (1 - terminated_t) - V(s_t)
  //   A_t = delta_t + gamma lambda (1 - terminated_t) (1 - truncated_t) A_{t+1}
  //   returns_t = A_t + V(s_t)
  // next_values[t] is V of the observation that followed step t (the final observation when the
  // episode ended, the next step's observation otherwise); A beyond the rollout's end is 0, so the
  // last step bootstraps through next_values only. The deltas are traced.
  void gae(std::size_t steps, std::size_t envs, std::span<const float> rewards,
           std::span<const float> values, std::span<const float> next_values,
           std::span<const std::uint8_t> terminated, std::span<const std::uint8_t> truncated,
           std::span<float> advantages, std::span<float> returns);

  const DopamineConfig& config() const { return config_; }
  const std::vector<float>& trace() const { return trace_; }
  void clear_trace() { trace_.clear(); }

 private:
  void record(float delta);
  DopamineConfig config_;
  std::vector<float> trace_;
};

}  // namespace locus::neuromod
