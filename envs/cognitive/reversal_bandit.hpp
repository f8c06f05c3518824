#pragma once
// ReversalBandit-v0: NeuroGym's Bandit-v0 (Wang et al. 2018, "Prefrontal cortex as a
// meta-reinforcement learning system") with reversals: the arms' reward probabilities swap (the
// probability vector is reversed) at the end of every block of trials.
//
// Each step is one trial, as in NeuroGym's Bandit: pulling arm a pays rewards[a] with probability
// p[a] (NeuroGym's (rng.random() < p[a]) * rewards[a]) and 0 otherwise. Defaults: two arms,
// p = [0.8, 0.2] (NeuroGym's default [0.5, 0.5] has nothing to reverse), reward 1 per arm, blocks
// of 50 trials (block_length_max > block_length draws each block's length uniformly from
// [block_length, block_length_max]).
//
// Observation Box(1 + n) float32 [previous reward, previous arm one-hot], zeros at the start of an
// episode, plus N(0, sigma / sqrt(dt)) noise on every channel when sigma > 0. NeuroGym's Bandit
// observes a constant 0; the previous reward and action are what a recurrent agent needs to track
// a reversal (Wang et al. feed them as inputs), so they are the observation here. dt only scales
// the noise, as in the other tasks.
//
// Episodes: trials_per_episode 0 (the default) runs trials endlessly; n > 0 terminates after n.
// The block schedule is the experiment's state: reset() without a seed keeps it (blocks run on
// across episodes), reset(seed) starts over with the initial probabilities.
//
// info, on reset and every step: trial (index since the last seeded reset), ground_truth (the best
// arm now), block (index), rewarded (this pull paid), correct (the pulled arm was a best arm),
// reversal (this trial ended a block: the next trial has the reversed probabilities), trial_ended
// (true on every step). On reset, rewarded, correct and reversal are false.
//
// Rendering: made with render_mode "ansi", render() returns one line describing the last reset or
// pull, e.g. "trial 7 block 0 p [0.80 0.20] arm 1 reward +0.00 (not best) -> obs [...] | reversal".
// Without a render mode it warns and returns "", as Gymnasium does.

#include <cstdint>
#include <vector>

#include "envs/cognitive/cognitive_env.hpp"

namespace locus::envs {

class ReversalBanditEnv final : public CognitiveEnv {
 public:
  explicit ReversalBanditEnv(const Kwargs& kwargs = Kwargs::object());
  std::string name() const override { return "ReversalBanditEnv"; }
  bool supports_state() const override { return true; }

  std::size_t arms() const { return p_.size(); }
  // The reward probabilities now (reversed in odd blocks).
  const std::vector<double>& probabilities() const { return p_; }
  const std::vector<double>& reward_sizes() const { return rewards_; }
  std::int64_t block() const { return block_; }
  std::int64_t block_length() const { return current_block_length_; }
  std::int64_t best_arm() const { return best_arm_; }

  // render_mode "ansi": one line describing the last reset or pull (see the file comment).
  std::string render() override;

 protected:
  nlohmann::json save_state_impl() const override;
  void restore_state_impl(const nlohmann::json& fields) override;
  void reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                  std::span<std::byte> observation, Info& info) override;
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;

 private:
  void restart_experiment();
  void draw_block_length();
  void update_best_arm();
  void write_observation(std::span<float> obs, double reward, std::int64_t arm);

  std::vector<double> initial_p_;
  std::vector<double> rewards_;
  std::int64_t block_length_min_ = 50;
  std::int64_t block_length_max_ = 50;
  std::int64_t trials_per_episode_ = 0;

  std::vector<double> p_;
  std::int64_t best_arm_ = 0;
  std::int64_t block_ = 0;
  std::int64_t current_block_length_ = 50;
  std::int64_t trials_in_block_ = 0;
  std::int64_t trial_ = 0;  // index of the next trial, since the last seeded reset
  std::int64_t trials_this_episode_ = 0;

  // What render() describes, recorded only when rendering_.
  struct RenderedPull {
    bool valid = false;  // false until the first reset
    bool reset = false;
    std::int64_t trial = 0;
    std::int64_t block = 0;
    std::vector<double> p;  // the probabilities the pull was made under
    std::int64_t arm = 0;
    double reward = 0.0;
    bool correct = false;
    bool reversal = false;
    std::vector<float> observation;
  };
  void record_render(bool reset, std::int64_t arm, double reward, bool correct, bool reversal,
                     std::span<const float> observation);
  RenderedPull rendered_;
};

}  // namespace locus::envs
