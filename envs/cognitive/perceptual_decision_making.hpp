#pragma once
// PerceptualDecisionMaking-v0: NeuroGym's PerceptualDecisionMaking-v0 (Britten et al. 1992), a
// two-alternative (or n-alternative) forced choice on a noisy motion stimulus. Trial machinery,
// rewards, info and the differences from NeuroGym are described in trial_env.hpp.
//
// dt 100 ms; periods fixation 100, stimulus 2000, delay 0, decision 100 ms. Observation Box(1 + n)
// float32 [fixation, stimulus 1..n]: during the stimulus channel i shows
// cos(theta_i - theta_gt) * coh / 200 + 0.5 plus N(0, sigma / sqrt(dt)) noise (theta_i = 2 pi i /
// n). Actions Discrete(1 + n): 0 fixate, i chooses direction i. Ground truth uniform over 1..n,
// coherence uniform over `cohs`. Rewards: abort -0.1, correct +1, fail 0, miss 0.
//
// The go cue: with go_cue true (the default) the fixation channel stays on until the decision
// period, so its offset tells when to answer, as in the original task and NeuroGym before 2.0.
// NeuroGym 2.x turns it off after the fixation period (its issues #231, #279); go_cue false
// reproduces that.
//
// kwargs: dt, timing, rewards (abort, correct, fail, miss), sigma (1.0), abort (false),
// trials_per_episode (0), dim_ring (n, 2), cohs ([0, 6.4, 12.8, 25.6, 51.2]), go_cue (true).
// Trial conditions: {"ground_truth": 1..n (the correct action), "coh": one of cohs}.
// info adds (on reset and when a trial ends): coh.

#include <utility>
#include <vector>

#include "envs/cognitive/trial_env.hpp"

namespace locus::envs {

class PerceptualDecisionMakingEnv final : public TrialEnv {
 public:
  explicit PerceptualDecisionMakingEnv(const Kwargs& kwargs = Kwargs::object());
  std::string name() const override { return "PerceptualDecisionMakingEnv"; }

  std::size_t dim_ring() const { return stimulus_.size(); }
  const std::vector<double>& cohs() const { return cohs_; }
  double coh() const { return coh_; }

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
    std::vector<double> cohs;
    bool go_cue;
  };
  // The tag keeps brace-initialized kwargs from matching this constructor.
  PerceptualDecisionMakingEnv(std::in_place_t, Parsed parsed);
  static Parsed parse(const Kwargs& kwargs);
  void parse_conditions(const Kwargs& conditions, std::int64_t& ground_truth, double& coh) const;

  std::vector<double> cohs_;
  bool go_cue_ = true;
  std::size_t stimulus_period_;
  double coh_ = 0.0;
  std::vector<double> stimulus_;  // (n,) this trial's noise-free stimulus
};

// Checks that `value` is one of `allowed` (exactly); the error names the key and the choices.
void require_member(double value, const std::vector<double>& allowed, const std::string& context,
                    const std::string& key);
// Noise-free observation bounds of ring stimuli with these coherences next to 0/1 channels.
std::pair<double, double> ring_bounds(const std::vector<double>& cohs);

}  // namespace locus::envs
