#pragma once
// GoNoGo-v0 (NeuroGym's GoNogo-v0; Zhang et al. 2019, eLife 8:e43191) and SetShiftGoNoGo-v0 (the
// reversal / set-shifting variant with two stimulus pairs). Trial machinery, rewards, info and the
// differences from NeuroGym are described in trial_env.hpp.

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>

#include "envs/cognitive/trial_env.hpp"

namespace locus::envs {

// GoNoGo-v0. dt 100 ms; periods fixation 0, stimulus 500, delay 500, decision 500 ms (15 steps).
// Observation Box(3) float32 [fixation, nogo, go]: stimulus steps [1, gt == 0, gt == 1], delay
// [1, 0, 0], decision [0, 0, 0] (fixation going off is the go signal). Actions Discrete(2): 0
// fixate, 1 go. Ground truth uniform over {0 No-Go, 1 Go}. Go in the decision period: +1 on a Go
// trial (hit), -0.5 on a No-Go trial (false alarm); either ends the trial. A Go trial without
// response: -0.5 at its last step (miss); a No-Go trial withheld: 0 (correct rejection).
//
// kwargs: dt (ms, 100), timing ({"fixation": 0, "stimulus": 500, "delay": 500, "decision": 500},
// durations as in PeriodDuration), rewards ({"abort": -0.1, "correct": 1, "fail": -0.5,
// "miss": -0.5, "correct_rejection": 0}), sigma (0: observation noise N(0, sigma / sqrt(dt)) on
// the nogo and go channels during the stimulus, NeuroGym's convention; GoNogo itself has none),
// abort (false: a go during a fixation period costs rewards.abort; true: it also ends the trial),
// trials_per_episode (0: endless trials, NeuroGym's mode; 1: one trial per episode; n: n trials).
// Trial conditions (queue_trial, reset options {"trial": ...}): {"ground_truth": 0 or 1}.
class GoNoGoEnv final : public TrialEnv {
 public:
  explicit GoNoGoEnv(const Kwargs& kwargs = Kwargs::object());
  std::string name() const override { return "GoNoGoEnv"; }

 protected:
  nlohmann::json save_task_state() const override;
  void restore_task_state(const StateReader& task) override;
  void draw_trial(Rng& rng, const Kwargs* conditions) override;
  void check_conditions(const Kwargs& conditions) const override;
  void write_observation(std::span<float> obs) override;

 private:
  // What the constructor reads from its kwargs.
  struct Parsed {
    TrialTimeline timeline;
    Settings settings;
  };
  // The tag keeps brace-initialized kwargs from matching this constructor.
  GoNoGoEnv(std::in_place_t, Parsed parsed);
  static Parsed parse(const Kwargs& kwargs);
  std::size_t stimulus_period_;
};

// SetShiftGoNoGo-v0: Go/No-Go with two stimulus pairs, visual A/B and auditory X/Y, shown together
// during the stimulus period (one of each pair, each uniform); one of the four stimuli is rewarded
// (the rule), so a trial is a Go trial when the rewarded stimulus is present. The rule switches
// between trials: after `switch_after_trials` trials under the current rule, or once the agent has
// answered `switch_after_correct` trials in a row correctly (whichever comes first; 0 turns a
// condition off), at most `max_switches` times (-1: no limit). A "reversal" shift moves the reward
// to the other member of the same pair (A <-> B, X <-> Y); an "extradimensional" shift moves it to
// the other modality (A <-> X, B <-> Y), as in attentional set-shifting.
//
// The rule is the experiment's state, not the episode's: reset() without a seed keeps it (so with
// trials_per_episode 1 the rule still switches across episodes), reset(seed) starts the experiment
// over from the initial rule.
//
// Observation Box(5) float32 [fixation, A, B, X, Y]; actions, timing and rewards as GoNoGoEnv.
// kwargs: GoNoGoEnv's, plus rule ("A", "B", "X" or "Y"; "A"), shift ("reversal" or
// "extradimensional"; "reversal"), switch_after_trials (50), switch_after_correct (0), max_switches
// (-1). Trial conditions: {"visual": 0 (A) or 1 (B), "auditory": 0 (X) or 1 (Y)}.
// info adds, on reset and when a trial ends (describing that trial): rule (its rewarded stimulus),
// rule_switched (true when the trial that ended switched the rule: the next trial uses the new
// one; false on reset), switches (how many so far), trials_since_switch (trials completed under
// the rule now in force), visual and auditory (0 A / 1 B, 0 X / 1 Y: what was shown).
class SetShiftGoNoGoEnv final : public TrialEnv {
 public:
  enum class Shift { kReversal, kExtradimensional };
  static constexpr std::array<std::string_view, 4> kStimulusNames = {"A", "B", "X", "Y"};

  explicit SetShiftGoNoGoEnv(const Kwargs& kwargs = Kwargs::object());
  std::string name() const override { return "SetShiftGoNoGoEnv"; }

  // The rewarded stimulus now: 0 A, 1 B, 2 X, 3 Y.
  int rule() const { return rule_; }
  std::int64_t switches() const { return switches_; }
  Shift shift() const { return shift_; }

 protected:
  nlohmann::json save_task_state() const override;
  void restore_task_state(const StateReader& task) override;
  void draw_trial(Rng& rng, const Kwargs* conditions) override;
  void check_conditions(const Kwargs& conditions) const override;
  void write_observation(std::span<float> obs) override;
  void add_info(Info& info, TrialOutcome outcome) override;
  void on_trial_end(TrialOutcome outcome) override;
  void restart_experiment() override;

 private:
  // What the constructor reads from its kwargs.
  struct Parsed {
    TrialTimeline timeline;
    Settings settings;
    int initial_rule;
    Shift shift;
    std::int64_t switch_after_trials;
    std::int64_t switch_after_correct;
    std::int64_t max_switches;
  };
  // The tag keeps brace-initialized kwargs from matching this constructor.
  SetShiftGoNoGoEnv(std::in_place_t, Parsed parsed);
  static Parsed parse(const Kwargs& kwargs);
  void parse_conditions(const Kwargs& conditions, std::int64_t& visual,
                        std::int64_t& auditory) const;

  std::size_t stimulus_period_;
  int initial_rule_ = 0;
  Shift shift_ = Shift::kReversal;
  std::int64_t switch_after_trials_ = 50;
  std::int64_t switch_after_correct_ = 0;
  std::int64_t max_switches_ = -1;

  int rule_ = 0;        // the rule now (the next trial's)
  int trial_rule_ = 0;  // the rule of the current trial
  std::int64_t visual_ = 0;
  std::int64_t auditory_ = 0;
  std::int64_t switches_ = 0;
  std::int64_t trials_since_switch_ = 0;
  std::int64_t correct_in_a_row_ = 0;
  bool switched_ = false;  // the trial that just ended switched the rule
};

}  // namespace locus::envs
