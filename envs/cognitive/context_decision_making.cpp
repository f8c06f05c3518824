#include "envs/cognitive/context_decision_making.hpp"

#include <algorithm>
#include <limits>

#include "envs/cognitive/perceptual_decision_making.hpp"
#include "envs/errors.hpp"

namespace locus::envs {

ContextDecisionMakingEnv::Parsed ContextDecisionMakingEnv::parse(const Kwargs& kwargs) {
  KwargsReader reader(kwargs, "ContextDecisionMaking");
  const Defaults defaults{
      .dt = 100.0,
      .sigma = 1.0,
      .rewards = {.abort = -0.1, .correct = 1.0, .fail = 0.0, .miss = 0.0},
      .reward_keys = {"abort", "correct", "fail", "miss"},
      .periods = {{"fixation", PeriodDuration::constant(300)},
                  {"stimulus", PeriodDuration::constant(750)},
                  {"delay", PeriodDuration::truncated_exponential(600, 300, 3000)},
                  {"decision", PeriodDuration::constant(100)}}};
  Settings settings;
  TrialTimeline timeline = read_common(reader, defaults, settings);
  const std::int64_t dim_ring = reader.get<std::int64_t>("dim_ring", 2);
  const bool explicit_context = reader.get<bool>("use_expl_context", false);
  const std::int64_t implicit_modality = reader.get<std::int64_t>("impl_context_modality", 0);
  std::vector<double> cohs = reader.get_numbers("cohs", {5, 15, 50});
  const bool go_cue = reader.get<bool>("go_cue", true);
  reader.finish();
  if (dim_ring < 2 || dim_ring > 1024) {
    throw InvalidArgumentError("ContextDecisionMaking: 'dim_ring' must be in [2, 1024], got " +
                               std::to_string(dim_ring));
  }
  if (implicit_modality != 0 && implicit_modality != 1) {
    throw InvalidArgumentError(
        "ContextDecisionMaking: 'impl_context_modality' must be 0 or 1, got " +
        std::to_string(implicit_modality));
  }
  return {std::move(timeline), settings,        dim_ring, explicit_context,
          implicit_modality,   std::move(cohs), go_cue};
}

ContextDecisionMakingEnv::ContextDecisionMakingEnv(const Kwargs& kwargs)
    : ContextDecisionMakingEnv(std::in_place, parse(kwargs)) {}

ContextDecisionMakingEnv::ContextDecisionMakingEnv(std::in_place_t, Parsed parsed)
    : TrialEnv(
          "ContextDecisionMaking", std::move(parsed.timeline), parsed.settings,
          1 + 2 * static_cast<std::size_t>(parsed.dim_ring) + (parsed.explicit_context ? 2 : 0),
          ring_bounds(parsed.cohs).first, ring_bounds(parsed.cohs).second, 1 + parsed.dim_ring,
          /*go_no_go_outcomes=*/false),
      explicit_context_(parsed.explicit_context),
      contexts_(parsed.explicit_context ? std::vector<std::int64_t>{0, 1}
                                        : std::vector<std::int64_t>{parsed.implicit_modality}),
      cohs_(std::move(parsed.cohs)),
      go_cue_(parsed.go_cue),
      stimulus_period_(timeline_.find("stimulus")),
      context_(contexts_[0]),
      modality_1_(static_cast<std::size_t>(parsed.dim_ring), 0.5),
      modality_2_(static_cast<std::size_t>(parsed.dim_ring), 0.5) {}

void ContextDecisionMakingEnv::parse_conditions(const Kwargs& conditions, Trial& trial) const {
  const std::string context = "ContextDecisionMaking trial conditions";
  KwargsReader reader(conditions, context);
  trial.ground_truth = reader.get<std::int64_t>("ground_truth", trial.ground_truth);
  trial.other_choice = reader.get<std::int64_t>("other_choice", trial.other_choice);
  trial.context = reader.get<std::int64_t>("context", trial.context);
  trial.coh_1 = reader.get<double>("coh_1", trial.coh_1);
  trial.coh_2 = reader.get<double>("coh_2", trial.coh_2);
  reader.finish();
  const auto n = static_cast<std::int64_t>(modality_1_.size());
  for (const auto& [key, value] :
       {std::pair<const char*, std::int64_t>{"ground_truth", trial.ground_truth},
        {"other_choice", trial.other_choice}}) {
    if (value < 1 || value > n) {
      throw InvalidArgumentError(context + ": '" + key + "' is an action, 1 to " +
                                 std::to_string(n) + ", got " + std::to_string(value));
    }
  }
  if (std::find(contexts_.begin(), contexts_.end(), trial.context) == contexts_.end()) {
    throw InvalidArgumentError(
        context + ": 'context' must be " +
        (explicit_context_ ? std::string("0 or 1")
                           : std::to_string(contexts_[0]) + " (the implicit context modality)") +
        ", got " + std::to_string(trial.context));
  }
  require_member(trial.coh_1, cohs_, context, "coh_1");
  require_member(trial.coh_2, cohs_, context, "coh_2");
}

void ContextDecisionMakingEnv::check_conditions(const Kwargs& conditions) const {
  Trial trial{.ground_truth = 1,
              .other_choice = 1,
              .context = contexts_[0],
              .coh_1 = cohs_[0],
              .coh_2 = cohs_[0]};
  parse_conditions(conditions, trial);
}

void ContextDecisionMakingEnv::draw_trial(Rng& rng, const Kwargs* conditions) {
  const auto n = static_cast<std::int64_t>(modality_1_.size());
  const auto pick = [&rng](const auto& values) {
    return values[static_cast<std::size_t>(rng.integers(std::ssize(values)))];
  };
  // NeuroGym's order: ground_truth, other_choice, context, coh_1, coh_2.
  Trial trial;
  trial.ground_truth = 1 + rng.integers(n);
  trial.other_choice = 1 + rng.integers(n);
  trial.context = pick(contexts_);
  trial.coh_1 = pick(cohs_);
  trial.coh_2 = pick(cohs_);
  if (conditions != nullptr) parse_conditions(*conditions, trial);
  ground_truth_ = trial.ground_truth;
  context_ = trial.context;
  // The relevant modality shows the ground truth, the other one the distractor choice.
  const std::int64_t choice_1 = context_ == 0 ? trial.ground_truth : trial.other_choice;
  const std::int64_t choice_2 = context_ == 0 ? trial.other_choice : trial.ground_truth;
  const std::size_t channels = modality_1_.size();
  ring_stimulus(modality_1_, ring_angle(static_cast<std::size_t>(choice_1 - 1), channels),
                trial.coh_1 / 200.0);
  ring_stimulus(modality_2_, ring_angle(static_cast<std::size_t>(choice_2 - 1), channels),
                trial.coh_2 / 200.0);
}

void ContextDecisionMakingEnv::write_observation(std::span<float> obs) {
  const std::size_t period = timeline_.period();
  const bool fixating = go_cue_ ? period != decision_period_ : period == fixation_period_;
  obs[0] = fixating ? 1.0F : 0.0F;
  const std::size_t n = modality_1_.size();
  if (period == stimulus_period_) {
    for (std::size_t i = 0; i < n; ++i) {
      obs[1 + i] = static_cast<float>(modality_1_[i] + noise());
      obs[1 + n + i] = static_cast<float>(modality_2_[i] + noise());
    }
  } else {
    std::fill(obs.begin() + 1, obs.begin() + 1 + 2 * static_cast<std::ptrdiff_t>(n), 0.0F);
  }
  if (explicit_context_) {
    // The context channels stay on through the whole trial, the decision period included.
    obs[1 + 2 * n] = context_ == 0 ? 1.0F : 0.0F;
    obs[2 + 2 * n] = context_ == 1 ? 1.0F : 0.0F;
  }
}

void ContextDecisionMakingEnv::add_info(Info& info, TrialOutcome /*outcome*/) {
  info.set("context", context_);
}

}  // namespace locus::envs
