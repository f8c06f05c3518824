#include "envs/cognitive/go_no_go.hpp"

#include <algorithm>

#include "envs/errors.hpp"

namespace locus::envs {

namespace {

TrialEnv::Defaults go_no_go_defaults() {
  // NeuroGym's GoNogo: {"abort": -0.1, "correct": +1.0, "fail": -0.5, "miss": -0.5}, timing
  // {"fixation": 0, "stimulus": 500, "delay": 500, "decision": 500}, dt 100.
  return {.dt = 100.0,
          .sigma = 0.0,
          .rewards =
              {.abort = -0.1, .correct = 1.0, .fail = -0.5, .miss = -0.5, .correct_rejection = 0.0},
          .reward_keys = {"abort", "correct", "fail", "miss", "correct_rejection"},
          .periods = {{"fixation", PeriodDuration::constant(0)},
                      {"stimulus", PeriodDuration::constant(500)},
                      {"delay", PeriodDuration::constant(500)},
                      {"decision", PeriodDuration::constant(500)}}};
}

// A 0/1 trial condition.
std::int64_t binary_condition(KwargsReader& reader, const std::string& key, std::int64_t fallback) {
  const std::int64_t value = reader.get<std::int64_t>(key, fallback);
  if (value != 0 && value != 1) {
    throw InvalidArgumentError(reader.context() + ": '" + key + "' must be 0 or 1, got " +
                               std::to_string(value));
  }
  return value;
}

}  // namespace

// ---- GoNoGoEnv ----

GoNoGoEnv::Parsed GoNoGoEnv::parse(const Kwargs& kwargs) {
  KwargsReader reader(kwargs, "GoNoGo");
  Settings settings;
  TrialTimeline timeline = read_common(reader, go_no_go_defaults(), settings);
  reader.finish();
  return {std::move(timeline), settings};
}

GoNoGoEnv::GoNoGoEnv(const Kwargs& kwargs) : GoNoGoEnv(std::in_place, parse(kwargs)) {}

GoNoGoEnv::GoNoGoEnv(std::in_place_t, Parsed parsed)
    : TrialEnv("GoNoGo", std::move(parsed.timeline), parsed.settings, 3, 0.0, 1.0, 2,
               /*go_no_go_outcomes=*/true),
      stimulus_period_(timeline_.find("stimulus")) {}

void GoNoGoEnv::check_conditions(const Kwargs& conditions) const {
  KwargsReader reader(conditions, "GoNoGo trial conditions");
  binary_condition(reader, "ground_truth", 0);
  reader.finish();
}

void GoNoGoEnv::draw_trial(Rng& rng, const Kwargs* conditions) {
  ground_truth_ = rng.integers(2);
  if (conditions != nullptr) {
    KwargsReader reader(*conditions, "GoNoGo trial conditions");
    ground_truth_ = binary_condition(reader, "ground_truth", ground_truth_);
    reader.finish();
  }
}

void GoNoGoEnv::write_observation(std::span<float> obs) {
  const std::size_t period = timeline_.period();
  obs[0] = period == decision_period_ ? 0.0F : 1.0F;
  if (period == stimulus_period_) {
    const double nogo = (ground_truth_ == 0 ? 1.0 : 0.0) + noise();
    const double go = (ground_truth_ == 1 ? 1.0 : 0.0) + noise();
    obs[1] = static_cast<float>(nogo);
    obs[2] = static_cast<float>(go);
  } else {
    obs[1] = 0.0F;
    obs[2] = 0.0F;
  }
}

// ---- SetShiftGoNoGoEnv ----

SetShiftGoNoGoEnv::Parsed SetShiftGoNoGoEnv::parse(const Kwargs& kwargs) {
  KwargsReader reader(kwargs, "SetShiftGoNoGo");
  Settings settings;
  TrialTimeline timeline = read_common(reader, go_no_go_defaults(), settings);
  const std::string rule = reader.get<std::string>("rule", "A");
  const auto rule_it = std::find(kStimulusNames.begin(), kStimulusNames.end(), rule);
  if (rule_it == kStimulusNames.end()) {
    throw InvalidArgumentError(
        "SetShiftGoNoGo: 'rule' must be \"A\", \"B\" (visual) or \"X\", "
        "\"Y\" (auditory), got \"" +
        rule + "\"");
  }
  const std::string shift = reader.get<std::string>("shift", "reversal");
  if (shift != "reversal" && shift != "extradimensional") {
    throw InvalidArgumentError(
        "SetShiftGoNoGo: 'shift' must be \"reversal\" or \"extradimensional\", got \"" + shift +
        "\"");
  }
  const std::int64_t after_trials = reader.get<std::int64_t>("switch_after_trials", 50);
  const std::int64_t after_correct = reader.get<std::int64_t>("switch_after_correct", 0);
  const std::int64_t max_switches = reader.get<std::int64_t>("max_switches", -1);
  reader.finish();
  if (after_trials < 0 || after_correct < 0) {
    throw InvalidArgumentError(
        "SetShiftGoNoGo: 'switch_after_trials' and 'switch_after_correct' must be non-negative "
        "(0 turns one off), got " +
        std::to_string(after_trials) + " and " + std::to_string(after_correct));
  }
  if (max_switches < -1) {
    throw InvalidArgumentError(
        "SetShiftGoNoGo: 'max_switches' must be -1 (no limit) or >= 0, got " +
        std::to_string(max_switches));
  }
  return {std::move(timeline),
          settings,
          static_cast<int>(rule_it - kStimulusNames.begin()),
          shift == "reversal" ? Shift::kReversal : Shift::kExtradimensional,
          after_trials,
          after_correct,
          max_switches};
}

SetShiftGoNoGoEnv::SetShiftGoNoGoEnv(const Kwargs& kwargs)
    : SetShiftGoNoGoEnv(std::in_place, parse(kwargs)) {}

SetShiftGoNoGoEnv::SetShiftGoNoGoEnv(std::in_place_t, Parsed parsed)
    : TrialEnv("SetShiftGoNoGo", std::move(parsed.timeline), parsed.settings, 5, 0.0, 1.0, 2,
               /*go_no_go_outcomes=*/true),
      stimulus_period_(timeline_.find("stimulus")),
      initial_rule_(parsed.initial_rule),
      shift_(parsed.shift),
      switch_after_trials_(parsed.switch_after_trials),
      switch_after_correct_(parsed.switch_after_correct),
      max_switches_(parsed.max_switches),
      rule_(parsed.initial_rule),
      trial_rule_(parsed.initial_rule) {}

void SetShiftGoNoGoEnv::parse_conditions(const Kwargs& conditions, std::int64_t& visual,
                                         std::int64_t& auditory) const {
  KwargsReader reader(conditions, "SetShiftGoNoGo trial conditions");
  visual = binary_condition(reader, "visual", visual);
  auditory = binary_condition(reader, "auditory", auditory);
  reader.finish();
}

void SetShiftGoNoGoEnv::check_conditions(const Kwargs& conditions) const {
  std::int64_t visual = 0;
  std::int64_t auditory = 0;
  parse_conditions(conditions, visual, auditory);
}

void SetShiftGoNoGoEnv::draw_trial(Rng& rng, const Kwargs* conditions) {
  visual_ = rng.integers(2);
  auditory_ = rng.integers(2);
  if (conditions != nullptr) parse_conditions(*conditions, visual_, auditory_);
  trial_rule_ = rule_;
  // Rules 0/1 pick a visual stimulus (A/B), rules 2/3 an auditory one (X/Y).
  const std::int64_t shown = trial_rule_ < 2 ? visual_ : auditory_;
  ground_truth_ = shown == (trial_rule_ & 1) ? 1 : 0;
}

void SetShiftGoNoGoEnv::write_observation(std::span<float> obs) {
  const std::size_t period = timeline_.period();
  obs[0] = period == decision_period_ ? 0.0F : 1.0F;
  if (period == stimulus_period_) {
    // Channels 1-2 are A, B; channels 3-4 are X, Y.
    for (std::size_t c = 1; c < 5; ++c) {
      const bool shown = c < 3 ? static_cast<std::int64_t>(c - 1) == visual_
                               : static_cast<std::int64_t>(c - 3) == auditory_;
      obs[c] = static_cast<float>((shown ? 1.0 : 0.0) + noise());
    }
  } else {
    std::fill(obs.begin() + 1, obs.end(), 0.0F);
  }
}

void SetShiftGoNoGoEnv::on_trial_end(TrialOutcome outcome) {
  ++trials_since_switch_;
  correct_in_a_row_ = is_correct(outcome) ? correct_in_a_row_ + 1 : 0;
  const bool allowed = max_switches_ < 0 || switches_ < max_switches_;
  const bool by_count = switch_after_trials_ > 0 && trials_since_switch_ >= switch_after_trials_;
  const bool by_criterion = switch_after_correct_ > 0 && correct_in_a_row_ >= switch_after_correct_;
  if (allowed && (by_count || by_criterion)) {
    rule_ = shift_ == Shift::kReversal ? (rule_ ^ 1) : (rule_ ^ 2);
    ++switches_;
    trials_since_switch_ = 0;
    correct_in_a_row_ = 0;
    switched_ = true;
  }
}

void SetShiftGoNoGoEnv::add_info(Info& info, TrialOutcome /*outcome*/) {
  info.set("rule", kStimulusNames[static_cast<std::size_t>(trial_rule_)]);
  info.set("rule_switched", switched_);
  info.set("switches", switches_);
  info.set("trials_since_switch", trials_since_switch_);
  info.set("visual", visual_);
  info.set("auditory", auditory_);
  switched_ = false;
}

void SetShiftGoNoGoEnv::restart_experiment() {
  rule_ = initial_rule_;
  trial_rule_ = initial_rule_;
  switches_ = 0;
  trials_since_switch_ = 0;
  correct_in_a_row_ = 0;
  switched_ = false;
}

}  // namespace locus::envs
