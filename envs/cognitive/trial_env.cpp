#include "envs/cognitive/trial_env.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "envs/errors.hpp"

namespace locus::envs {

std::string_view to_string(TrialOutcome outcome) {
  switch (outcome) {
    case TrialOutcome::kNone:
      return "none";
    case TrialOutcome::kHit:
      return "hit";
    case TrialOutcome::kMiss:
      return "miss";
    case TrialOutcome::kFalseAlarm:
      return "false_alarm";
    case TrialOutcome::kCorrectRejection:
      return "correct_rejection";
    case TrialOutcome::kCorrect:
      return "correct";
    case TrialOutcome::kIncorrect:
      return "incorrect";
    case TrialOutcome::kAborted:
      return "aborted";
  }
  return "none";
}

bool is_correct(TrialOutcome outcome) {
  return outcome == TrialOutcome::kHit || outcome == TrialOutcome::kCorrectRejection ||
         outcome == TrialOutcome::kCorrect;
}

double ring_angle(std::size_t index, std::size_t channels) {
  // numpy's linspace computes step = (stop - start) / num, then i * step + start.
  constexpr double kTwoPi = 2.0 * 3.14159265358979323846;
  return static_cast<double>(index) * (kTwoPi / static_cast<double>(channels)) + 0.0;
}

void ring_stimulus(std::span<double> out, double direction, double strength) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = std::cos(ring_angle(i, out.size()) - direction) * strength + 0.5;
  }
}

TrialTimeline TrialEnv::read_common(KwargsReader& kwargs, const Defaults& defaults,
                                    Settings& settings) {
  const std::string& context = kwargs.context();
  const double dt = kwargs.get<double>("dt", defaults.dt);
  read_common_settings(kwargs, defaults.sigma, settings);
  settings.abort = kwargs.get<bool>("abort", false);
  settings.rewards = defaults.rewards;
  if (const Kwargs* rewards = kwargs.get_object("rewards")) {
    KwargsReader reader(*rewards, context + ": rewards");
    TrialRewards& r = settings.rewards;
    for (const auto& key : defaults.reward_keys) {
      double* target = key == "abort"               ? &r.abort
                       : key == "correct"           ? &r.correct
                       : key == "fail"              ? &r.fail
                       : key == "miss"              ? &r.miss
                       : key == "correct_rejection" ? &r.correct_rejection
                                                    : nullptr;
      if (target == nullptr) continue;
      *target = reader.get<double>(key, *target);
      if (!std::isfinite(*target)) {
        throw InvalidArgumentError(context + ": rewards '" + key + "' must be finite");
      }
    }
    reader.finish();
  }
  return TrialTimeline(context, dt, defaults.periods, kwargs.get_object("timing"));
}

TrialEnv::TrialEnv(std::string task_name, TrialTimeline timeline, const Settings& settings,
                   std::size_t observation_size, double low, double high, std::int64_t num_actions,
                   bool go_no_go_outcomes)
    : timeline_(std::move(timeline)),
      task_name_(std::move(task_name)),
      sigma_(settings.sigma),
      rewards_(settings.rewards),
      abort_(settings.abort),
      go_no_go_outcomes_(go_no_go_outcomes),
      trials_per_episode_(settings.trials_per_episode) {
  fixation_period_ = timeline_.find("fixation");
  decision_period_ = timeline_.find("decision");
  if (decision_period_ == TrialTimeline::kNoPeriod || timeline_.min_steps(decision_period_) < 1) {
    throw InvalidArgumentError(task_name_ +
                               ": the decision period must last at least one step of dt = " +
                               nlohmann::json(timeline_.dt()).dump() + " ms, its timing is " +
                               (decision_period_ == TrialTimeline::kNoPeriod
                                    ? std::string("missing")
                                    : timeline_.duration(decision_period_).to_json().dump()));
  }
  set_task_spaces(settings, timeline_.dt(), observation_size, low, high, num_actions);
  if (rendering_) rendered_.observation.resize(observation_size);
}

void TrialEnv::queue_trial(const Kwargs& conditions) {
  if (!conditions.is_object()) {
    throw InvalidArgumentError(task_name_ + ".queue_trial: conditions must be a JSON object, got " +
                               conditions.dump());
  }
  check_conditions(conditions);
  queued_.push_back(conditions);
}

void TrialEnv::begin_trial(const Kwargs* conditions) {
  ++trial_index_;
  if (conditions == nullptr && !queued_.empty()) {
    const Kwargs queued = std::move(queued_.front());
    queued_.pop_front();
    draw_trial(*rng_, &queued);
  } else {
    draw_trial(*rng_, conditions);
  }
  // NeuroGym draws the trial's conditions first and then its period durations.
  timeline_.sample(*rng_);
}

void TrialEnv::set_info(Info& info, std::int64_t target, TrialOutcome outcome, bool trial_start) {
  // step_impl repeats these two for a step that ends no trial: keep them in step.
  info.set("trial_ended", outcome != TrialOutcome::kNone);
  info.set("target", target);
  // The rest describes a whole trial: set when one starts (reset) or ends, as NeuroGym adds its
  // "trial" and "performance" only on a new trial. Setting an Info key costs tens of nanoseconds,
  // more than the rest of a step.
  if (outcome == TrialOutcome::kNone && !trial_start) return;
  info.set("trial", trial_index_);
  info.set("ground_truth", ground_truth_);
  if (outcome != TrialOutcome::kNone) {
    info.set("outcome", ::locus::envs::to_string(outcome));
    info.set("correct", is_correct(outcome));
  }
  add_info(info, outcome);
}

void TrialEnv::reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                          std::span<std::byte> observation, Info& info) {
  rng_ = &np_random();
  const Kwargs* conditions = nullptr;
  if (!options.empty()) {
    KwargsReader reader(options, task_name_ + ".reset options");
    conditions = reader.get_object("trial");
    // No reader.finish(): keys other than "trial" are ignored, as Gymnasium's envs ignore them.
    if (conditions != nullptr) check_conditions(*conditions);
  }
  if (seed) {
    trial_index_ = -1;
    restart_experiment();
  }
  trials_this_episode_ = 0;
  begin_trial(conditions);
  write_observation(as_span<float>(observation));
  const std::int64_t target = timeline_.period() == decision_period_ ? ground_truth_ : 0;
  set_info(info, target, TrialOutcome::kNone, /*trial_start=*/true);
  // Give this Info the entries that only a trial's end sets, with their final capacity
  // ("correct_rejection" outgrows std::string's short-string buffer), so that step() never
  // allocates: erase() keeps an entry's storage for the next set() of that key.
  info.set("outcome", ::locus::envs::to_string(TrialOutcome::kCorrectRejection));
  info.set("correct", false);
  info.erase("outcome");
  info.erase("correct");
  if (rendering_) {
    record_render(/*reset=*/true, trial_index_, timeline_.step(), timeline_.period(), 0, 0.0,
                  TrialOutcome::kNone, false, as_span<const float>(observation));
  }
}

StepOutcome TrialEnv::step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                                Info& info) {
  const std::int64_t response = as_span<const std::int64_t>(action)[0];
  const std::size_t period = timeline_.period();
  const std::int64_t step_before = timeline_.step();
  const bool deciding = period == decision_period_;
  const std::int64_t target = deciding ? ground_truth_ : 0;

  double reward = 0.0;
  TrialOutcome outcome = TrialOutcome::kNone;
  if (response != 0) {
    if (period == fixation_period_) {
      reward = rewards_.abort;
      if (abort_) outcome = TrialOutcome::kAborted;
    } else if (deciding) {
      const bool right = response == ground_truth_;
      reward = right ? rewards_.correct : rewards_.fail;
      if (go_no_go_outcomes_) {
        outcome = right ? TrialOutcome::kHit : TrialOutcome::kFalseAlarm;
      } else {
        outcome = right ? TrialOutcome::kCorrect : TrialOutcome::kIncorrect;
      }
    }
  }
  timeline_.advance();
  if (outcome == TrialOutcome::kNone && timeline_.finished()) {
    // NeuroGym's r_tmax: the reward of a trial that ran out without a response.
    if (ground_truth_ == 0) {
      outcome = TrialOutcome::kCorrectRejection;
      reward += rewards_.correct_rejection;
    } else {
      outcome = TrialOutcome::kMiss;
      reward += rewards_.miss;
    }
  }
  auto obs = as_span<float>(observation);
  StepOutcome result{reward, false, false};
  const std::int64_t trial = trial_index_;
  if (outcome == TrialOutcome::kNone) {
    // set_info's every-step part, written out: most steps end no trial, and the call (with its
    // register saves) stood out in the profile of a step.
    info.set("trial_ended", false);
    info.set("target", target);
    write_observation(obs);
  } else {
    // The task updates its experiment first (a set-shift rule may switch), so that info can say
    // so; the next trial is drawn after info has described the one that ended.
    on_trial_end(outcome);
    set_info(info, target, outcome, /*trial_start=*/false);
    ++trials_this_episode_;
    if (trials_per_episode_ > 0 && trials_this_episode_ >= trials_per_episode_) {
      std::fill(obs.begin(), obs.end(), 0.0F);
      result.terminated = true;
    } else {
      begin_trial(nullptr);
      write_observation(obs);
    }
  }
  if (rendering_) [[unlikely]] {
    record_render(/*reset=*/false, trial, step_before, period, response, reward, outcome,
                  result.terminated, obs);
  }
  return result;
}

void TrialEnv::record_render(bool reset, std::int64_t trial, std::int64_t step, std::size_t period,
                             std::int64_t action, double reward, TrialOutcome outcome,
                             bool terminated, std::span<const float> observation) {
  rendered_.valid = true;
  rendered_.reset = reset;
  rendered_.trial = trial;
  rendered_.step = step;
  rendered_.period = period;
  rendered_.action = action;
  rendered_.reward = reward;
  rendered_.outcome = outcome;
  rendered_.terminated = terminated;
  std::copy(observation.begin(), observation.end(), rendered_.observation.begin());
}

std::string TrialEnv::render() {
  if (!rendering_) return render_without_mode();
  if (!rendered_.valid) return task_name_ + ": no trial yet (call reset() first)\n";
  const RenderedStep& r = rendered_;
  char buffer[96];
  std::string line = "trial " + std::to_string(r.trial) + " t=" + std::to_string(r.step) + " ";
  // Padded to the longest period name, so that the columns line up in a log.
  std::string period = r.period == TrialTimeline::kNoPeriod ? "-" : timeline_.name(r.period);
  std::size_t width = 0;
  for (std::size_t p = 0; p < timeline_.size(); ++p)
    width = std::max(width, timeline_.name(p).size());
  if (period.size() < width) period.resize(width, ' ');
  line += period;
  if (r.reset) {
    line += "  reset";
  } else {
    std::snprintf(buffer, sizeof(buffer), "  action %lld reward %+.2f",
                  static_cast<long long>(r.action), r.reward);
    line += buffer;
  }
  append_observation(line, r.observation);
  if (r.outcome != TrialOutcome::kNone) {
    line += " | ";
    line += ::locus::envs::to_string(r.outcome);
    line +=
        r.terminated ? " (episode ends)" : " (trial " + std::to_string(r.trial + 1) + " begins)";
  }
  line += "\n";
  return line;
}

}  // namespace locus::envs
