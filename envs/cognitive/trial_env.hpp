#pragma once
// TrialEnv: the base of the timed cognitive tasks (GoNoGo, SetShiftGoNoGo,
// PerceptualDecisionMaking, DelayMatchSample, ContextDecisionMaking), NeuroGym's TrialEnv with its
// faults fixed.
//
// A trial is a TrialTimeline of periods. Action 0 is "fixate"; any other action during the
// "fixation" period costs rewards.abort (and ends the trial when `abort` is set); the first
// non-zero action during the "decision" period is the response and ends the trial (rewards.correct
// when it equals the ground truth, rewards.fail otherwise); actions in the other periods are
// ignored. A trial that reaches its last step unanswered ends there with rewards.miss when a
// response was due, or rewards.correct_rejection when withholding was right (ground truth 0, as on
// a No-Go trial).
//
// Differences from NeuroGym, on purpose:
//  - reset(seed) seeds the trials: every random draw (conditions, durations, noise) comes from
//    np_random(), which reset(seed) reseeds. NeuroGym draws trials from a separate RandomState that
//    reset(seed) leaves alone.
//  - reset() takes no hidden step: its observation is step 0 of the first trial. NeuroGym's reset
//    steps once with a sampled action, so its first trial is a step short.
//  - Outcomes are scored as the experimenter would: a withheld No-Go is a correct rejection and
//    counts as correct. NeuroGym zeroes its `performance` right after starting the next trial,
//    so every No-Go trial but the first reports 0 (NeuroGym issue #22).
//  - Episodes: `trials_per_episode` 0 (the default) runs trials endlessly as NeuroGym does; n > 0
//    terminates the episode when its n-th trial ends (1: one trial per episode). In the endless
//    mode the step that ends a trial returns the next trial's first observation (as NeuroGym); the
//    terminal step of the episode mode returns zeros.
//  - Observation noise, N(0, sigma / sqrt(dt)) as in NeuroGym, is drawn step by step rather than
//    for a whole trial at once (same distribution, no per-trial buffer).
//
// info, as NeuroGym's (which has "new_trial" and "gt" on every step and adds "trial" and
// "performance" when a trial ends), allocation-free once warm:
//   every step and reset:
//     trial_ended  whether this step ended the trial (false on reset)
//     target       the correct action at this step: the ground truth in the decision period, else
//                  0 (NeuroGym's "gt")
//   on reset and on the step that ends a trial, describing the trial that begins or ends:
//     trial        its index, counted from the last seeded reset (reset() without a seed continues
//                  the count, as it continues np_random())
//     ground_truth its correct response (0 for withholding, else the action to take)
//     plus the task's own keys (add_info)
//   on the step that ends a trial only:
//     outcome      "hit", "miss", "false_alarm", "correct_rejection" (go/no-go tasks), "correct",
//                  "incorrect", "miss" (choice tasks) or "aborted"
//     correct      whether it was answered correctly
// Keys that describe a trial are set only when one begins or ends because every Info key costs
// more than the rest of a step (it is looked up by name); the trial in progress is the one the
// last such info described.
//
// Rendering: made with render_mode "ansi" (kwargs {"render_mode": "ansi"}, or MakeOptions),
// render() returns one line describing the last reset or step, so printing it after every step
// gives a log of the trials, e.g.
//   trial 3 t=11 decision  action 1 reward +1.00 -> obs [1.00 0.00 0.00] | hit (trial 4 begins)
// (the period, step within the trial and action of that step, its reward, the observation it
// returned, and the outcome when it ended a trial). Without a render mode render() warns and
// returns "", as Gymnasium does. render_fps is 1000 / dt, the task's own clock.

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "envs/cognitive/cognitive_env.hpp"
#include "envs/cognitive/trial_timeline.hpp"

namespace locus::envs {

class StateReader;

enum class TrialOutcome : std::uint8_t {
  kNone,
  kHit,
  kMiss,
  kFalseAlarm,
  kCorrectRejection,
  kCorrect,
  kIncorrect,
  kAborted,
};
std::string_view to_string(TrialOutcome outcome);
// Hits, correct rejections and correct choices.
bool is_correct(TrialOutcome outcome);

struct TrialRewards {
  double abort = -0.1;             // a non-zero action during the fixation period
  double correct = 1.0;            // a response equal to the ground truth
  double fail = 0.0;               // any other response
  double miss = 0.0;               // no response by the end of a trial that needed one
  double correct_rejection = 0.0;  // no response by the end of a trial that needed none
};

// NeuroGym's ring code for a direction stimulus over n channels: channel i prefers the angle
// theta_i = i * 2 pi / n (np.linspace(0, 2 pi, n, endpoint=False)) and shows
// cos(theta_i - direction) * strength + 0.5.
double ring_angle(std::size_t index, std::size_t channels);
void ring_stimulus(std::span<double> out, double direction, double strength);

class TrialEnv : public CognitiveEnv {
 public:
  // What every timed task reads from its kwargs: dt, sigma, rewards, timing, abort and
  // trials_per_episode.
  struct Settings : CommonSettings {
    TrialRewards rewards;
    bool abort = false;
  };
  struct Defaults {
    double dt = 100.0;
    double sigma = 0.0;
    TrialRewards rewards;
    std::vector<std::string> reward_keys;  // the keys `rewards` accepts
    std::vector<TrialTimeline::Period> periods;
  };

  // Conditions for upcoming trials, NeuroGym's new_trial(**kwargs): each queued object overrides
  // the drawn conditions of one trial, in order (the task lists its keys, e.g. GoNoGo's
  // {"ground_truth": 1}). The conditions are still drawn, so forcing a trial does not shift the
  // random stream of the trials after it. Checked now; throws InvalidArgumentError naming the bad
  // key or value. reset(options={"trial": {...}}) forces the first trial of the episode instead.
  void queue_trial(const Kwargs& conditions);
  std::size_t queued_trials() const { return queued_.size(); }
  void clear_queued_trials() { queued_.clear(); }

  double dt() const { return timeline_.dt(); }
  double sigma() const { return sigma_; }
  const TrialRewards& rewards() const { return rewards_; }
  bool abort_enabled() const { return abort_; }
  std::int64_t trials_per_episode() const { return trials_per_episode_; }
  const TrialTimeline& timeline() const { return timeline_; }
  // The current trial: its index (as info["trial"]), ground truth and step within the trial.
  std::int64_t trial_index() const { return trial_index_; }
  std::int64_t ground_truth() const { return ground_truth_; }

  // render_mode "ansi": one line describing the last reset or step (see the file comment).
  std::string render() override;
  bool supports_state() const override { return true; }

 protected:
  // Reads the common kwargs into settings and returns the timeline.
  static TrialTimeline read_common(KwargsReader& kwargs, const Defaults& defaults,
                                   Settings& settings);

  // Sets the spaces (Box(observation_size) float32,
  // within [low, high] when there is no noise and unbounded otherwise; Discrete(num_actions)) and
  // checks that the timeline has a decision period of at least one step.
  TrialEnv(std::string task_name, TrialTimeline timeline, const Settings& settings,
           std::size_t observation_size, double low, double high, std::int64_t num_actions,
           bool go_no_go_outcomes);

  // ---- what a task implements ----
  // Draws the conditions of a new trial from rng and sets ground_truth_; then, when `conditions`
  // is not null, overrides them (the same checks as check_conditions).
  virtual void draw_trial(Rng& rng, const Kwargs* conditions) = 0;
  // Throws InvalidArgumentError when `conditions` has an unknown key or an invalid value.
  virtual void check_conditions(const Kwargs& conditions) const = 0;
  // Writes the observation of the current step (timeline_.period()) into `obs`.
  virtual void write_observation(std::span<float> obs) = 0;
  // Adds the task's own info keys on reset (`outcome` kNone) and when a trial ends.
  virtual void add_info(Info& /*info*/, TrialOutcome /*outcome*/) {}
  // A trial ended (before the next one is drawn): set-shifting updates its rule here.
  virtual void on_trial_end(TrialOutcome /*outcome*/) {}
  // reset(seed): the task's experiment-long state (a rule, a block) starts over.
  virtual void restart_experiment() {}
  // The task's own state for save_state() (its trial's conditions, an experiment's rule), and its
  // restoration; `task` reads the object save_task_state() returned, checking every value.
  virtual nlohmann::json save_task_state() const = 0;
  virtual void restore_task_state(const StateReader& task) = 0;

  Rng& rng() { return *rng_; }

  // The periods every task has (kNoPeriod when absent).
  std::size_t fixation_period_ = TrialTimeline::kNoPeriod;
  std::size_t decision_period_ = TrialTimeline::kNoPeriod;
  TrialTimeline timeline_;
  std::int64_t ground_truth_ = 0;
  std::string task_name_;

  void reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                  std::span<std::byte> observation, Info& info) override;
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override;
  nlohmann::json save_state_impl() const final;
  void restore_state_impl(const nlohmann::json& fields) final;

 private:
  nlohmann::json save_render_state() const;
  void restore_render_state(const StateReader& fields);
  void begin_trial(const Kwargs* conditions);
  void set_info(Info& info, std::int64_t target, TrialOutcome outcome, bool trial_start);

  // What render() describes: the last reset or step, recorded only when rendering_.
  struct RenderedStep {
    bool valid = false;  // false until the first reset
    bool reset = false;  // a reset rather than a step
    std::int64_t trial = 0;
    std::int64_t step = 0;  // within the trial
    std::size_t period = TrialTimeline::kNoPeriod;
    std::int64_t action = 0;
    double reward = 0.0;
    TrialOutcome outcome = TrialOutcome::kNone;
    bool terminated = false;
    std::vector<float> observation;  // the observation returned
  };
  void record_render(bool reset, std::int64_t trial, std::int64_t step, std::size_t period,
                     std::int64_t action, double reward, TrialOutcome outcome, bool terminated,
                     std::span<const float> observation);
  RenderedStep rendered_;

  double sigma_ = 0.0;
  TrialRewards rewards_;
  bool abort_ = false;
  bool go_no_go_outcomes_ = false;
  std::int64_t trials_per_episode_ = 0;
  std::int64_t trial_index_ = -1;  // incremented as each trial begins
  std::int64_t trials_this_episode_ = 0;
  std::deque<Kwargs> queued_;
};

}  // namespace locus::envs
