#pragma once
// ContextDecisionMaking-v0: NeuroGym's ContextDecisionMaking-v0 (Mante, Sussillo, Shenoy & Newsome
// 2013): two stimulus modalities (say motion and colour) are shown at once and only the one the
// context names counts. Trial machinery, rewards, info and the differences from NeuroGym are
// described in trial_env.hpp.
//
// dt 100 ms; periods fixation 300, stimulus 750, delay truncated exponential (mean 600, in [300,
// 3000)), decision 100 ms. Observation Box(1 + 2n [+ 2]) float32 [fixation, modality 1 ring (n),
// modality 2 ring (n), context 1, context 2 (explicit context only)]: during the stimulus modality
// m shows cos(theta_i - theta_m) * coh_m / 200 + 0.5 plus N(0, sigma / sqrt(dt)); in the decision
// period every channel but the context is 0. The relevant modality shows the ground truth, the
// other shows `other_choice` (drawn independently, so it agrees half the time for n = 2). Actions
// Discrete(1 + n); rewards abort -0.1, correct +1, fail 0, miss 0.
//
// The go cue (issue 3 asks for it; NeuroGym issue #279): with go_cue true (the default) the
// fixation channel stays on until the decision period and its offset tells when to answer, as the
// fixation point's offset did for Mante et al.'s monkeys. NeuroGym 2.x lights it in the fixation
// period only, so with its random delay nothing marks the decision step; go_cue false reproduces
// that.
//
// kwargs: dt, timing, rewards (abort, correct, fail, miss), sigma (1.0), abort (false),
// trials_per_episode (0), dim_ring (n, 2), use_expl_context (false: one fixed context, not shown;
// true: the context is drawn per trial and shown on two extra channels), impl_context_modality
// (0 or 1, the fixed context), cohs ([5, 15, 50]), go_cue (true).
// Trial conditions: {"ground_truth": 1..n, "other_choice": 1..n, "context": 0 or 1 (one of the
// allowed contexts), "coh_1": one of cohs, "coh_2": one of cohs}.
// info adds (on reset and when a trial ends): context.

#include <utility>
#include <vector>

#include "envs/cognitive/trial_env.hpp"

namespace locus::envs {

class ContextDecisionMakingEnv final : public TrialEnv {
 public:
  explicit ContextDecisionMakingEnv(const Kwargs& kwargs = Kwargs::object());
  std::string name() const override { return "ContextDecisionMakingEnv"; }

  std::size_t dim_ring() const { return modality_1_.size(); }
  bool explicit_context() const { return explicit_context_; }
  std::int64_t context() const { return context_; }

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
    bool explicit_context;
    std::int64_t implicit_modality;
    std::vector<double> cohs;
    bool go_cue;
  };
  struct Trial {
    std::int64_t ground_truth = 1;
    std::int64_t other_choice = 1;
    std::int64_t context = 0;
    double coh_1 = 0.0;
    double coh_2 = 0.0;
  };
  // The tag keeps brace-initialized kwargs from matching this constructor.
  ContextDecisionMakingEnv(std::in_place_t, Parsed parsed);
  static Parsed parse(const Kwargs& kwargs);
  void parse_conditions(const Kwargs& conditions, Trial& trial) const;

  bool explicit_context_ = false;
  std::vector<std::int64_t> contexts_;  // the contexts a trial can have
  std::vector<double> cohs_;
  bool go_cue_ = true;
  std::size_t stimulus_period_;
  std::int64_t context_ = 0;
  std::vector<double> modality_1_;  // (n,) this trial's noise-free stimuli
  std::vector<double> modality_2_;  // (n,)
};

}  // namespace locus::envs
