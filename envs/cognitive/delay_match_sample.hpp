#pragma once
// DelayMatchSample-v0: NeuroGym's DelayMatchSample-v0 (Miller, Erickson & Desimone 1996), a
// delayed match-to-sample on a ring stimulus. Trial machinery, rewards, info and the differences
// from NeuroGym are described in trial_env.hpp.
//
// dt 100 ms; periods fixation 300, sample 500, delay 1000, test 500, decision 900 ms. Observation
// Box(1 + n) float32 [fixation, stimulus 1..n]: the fixation channel is on until the decision
// period (its offset is the go cue); during the sample the ring shows cos(theta_i - sample) * 0.5
// + 0.5, during the test cos(theta_i - test) * 0.5 + 0.5, each plus N(0, sigma / sqrt(dt)); the
// test equals the sample on a match trial and is opposite (sample + pi) otherwise. Actions
// Discrete(3): 0 fixate, 1 match, 2 non-match; ground truth uniform over {1, 2}, the sample
// uniform over the n ring directions. Rewards: abort -0.1, correct +1, fail 0, miss 0.
//
// kwargs: dt, timing, rewards (abort, correct, fail, miss), sigma (1.0), abort (false),
// trials_per_episode (0), dim_ring (n, 2).
// Trial conditions: {"ground_truth": 1 (match) or 2 (non-match), "sample": ring index 0..n-1}.
// info adds (on reset and when a trial ends): sample (the sample's ring index).

#include <utility>
#include <vector>

#include "envs/cognitive/trial_env.hpp"

namespace locus::envs {

class DelayMatchSampleEnv final : public TrialEnv {
 public:
  explicit DelayMatchSampleEnv(const Kwargs& kwargs = Kwargs::object());
  std::string name() const override { return "DelayMatchSampleEnv"; }

  std::size_t dim_ring() const { return sample_stimulus_.size(); }

 protected:
  nlohmann::json save_task_state() const override;
  void restore_task_state(const StateReader& task) override;
  void draw_trial(Rng& rng, const Kwargs* conditions) override;
  void check_conditions(const Kwargs& conditions) const override;
  void write_observation(std::span<float> obs) override;
  void add_info(Info& info, TrialOutcome outcome) override;

 private:
  // What the constructor reads from its kwargs.
  struct Parsed {
    TrialTimeline timeline;
    Settings settings;
    std::int64_t dim_ring;
  };
  // The tag keeps brace-initialized kwargs from matching this constructor.
  DelayMatchSampleEnv(std::in_place_t, Parsed parsed);
  static Parsed parse(const Kwargs& kwargs);
  void parse_conditions(const Kwargs& conditions, std::int64_t& ground_truth,
                        std::int64_t& sample) const;

  std::size_t sample_period_;
  std::size_t test_period_;
  std::int64_t sample_ = 0;
  std::vector<double> sample_stimulus_;  // (n,)
  std::vector<double> test_stimulus_;    // (n,)
};

}  // namespace locus::envs
