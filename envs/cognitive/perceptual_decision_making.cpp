#include "envs/cognitive/perceptual_decision_making.hpp"

#include <algorithm>
#include <cmath>

#include "envs/errors.hpp"

namespace locus::envs {

void require_member(double value, const std::vector<double>& allowed, const std::string& context,
                    const std::string& key) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
  throw InvalidArgumentError(context + ": '" + key + "' must be one of " +
                             nlohmann::json(allowed).dump() + ", got " +
                             nlohmann::json(value).dump());
}

std::pair<double, double> ring_bounds(const std::vector<double>& cohs) {
  double strength = 0.0;
  for (const double c : cohs) strength = std::max(strength, std::abs(c) / 200.0);
  return {std::min(0.0, 0.5 - strength), std::max(1.0, 0.5 + strength)};
}

PerceptualDecisionMakingEnv::Parsed PerceptualDecisionMakingEnv::parse(const Kwargs& kwargs) {
  KwargsReader reader(kwargs, "PerceptualDecisionMaking");
  const Defaults defaults{.dt = 100.0,
                          .sigma = 1.0,
                          .rewards = {.abort = -0.1, .correct = 1.0, .fail = 0.0, .miss = 0.0},
                          .reward_keys = {"abort", "correct", "fail", "miss"},
                          .periods = {{"fixation", PeriodDuration::constant(100)},
                                      {"stimulus", PeriodDuration::constant(2000)},
                                      {"delay", PeriodDuration::constant(0)},
                                      {"decision", PeriodDuration::constant(100)}}};
  Settings settings;
  TrialTimeline timeline = read_common(reader, defaults, settings);
  const std::int64_t dim_ring = reader.get<std::int64_t>("dim_ring", 2);
  std::vector<double> cohs = reader.get_numbers("cohs", {0, 6.4, 12.8, 25.6, 51.2});
  const bool go_cue = reader.get<bool>("go_cue", true);
  reader.finish();
  if (dim_ring < 2 || dim_ring > 1024) {
    throw InvalidArgumentError("PerceptualDecisionMaking: 'dim_ring' must be in [2, 1024], got " +
                               std::to_string(dim_ring));
  }
  return {std::move(timeline), settings, dim_ring, std::move(cohs), go_cue};
}

PerceptualDecisionMakingEnv::PerceptualDecisionMakingEnv(const Kwargs& kwargs)
    : PerceptualDecisionMakingEnv(std::in_place, parse(kwargs)) {}

PerceptualDecisionMakingEnv::PerceptualDecisionMakingEnv(std::in_place_t, Parsed parsed)
    : TrialEnv("PerceptualDecisionMaking", std::move(parsed.timeline), parsed.settings,
               1 + static_cast<std::size_t>(parsed.dim_ring), ring_bounds(parsed.cohs).first,
               ring_bounds(parsed.cohs).second, 1 + parsed.dim_ring,
               /*go_no_go_outcomes=*/false),
      cohs_(std::move(parsed.cohs)),
      go_cue_(parsed.go_cue),
      stimulus_period_(timeline_.find("stimulus")),
      stimulus_(static_cast<std::size_t>(parsed.dim_ring), 0.5) {}

void PerceptualDecisionMakingEnv::parse_conditions(const Kwargs& conditions,
                                                   std::int64_t& ground_truth, double& coh) const {
  const std::string context = "PerceptualDecisionMaking trial conditions";
  KwargsReader reader(conditions, context);
  ground_truth = reader.get<std::int64_t>("ground_truth", ground_truth);
  coh = reader.get<double>("coh", coh);
  reader.finish();
  const auto n = static_cast<std::int64_t>(stimulus_.size());
  if (ground_truth < 1 || ground_truth > n) {
    throw InvalidArgumentError(context + ": 'ground_truth' is the correct action, 1 to " +
                               std::to_string(n) + ", got " + std::to_string(ground_truth));
  }
  require_member(coh, cohs_, context, "coh");
}

void PerceptualDecisionMakingEnv::check_conditions(const Kwargs& conditions) const {
  std::int64_t ground_truth = 1;
  double coh = cohs_[0];
  parse_conditions(conditions, ground_truth, coh);
}

void PerceptualDecisionMakingEnv::draw_trial(Rng& rng, const Kwargs* conditions) {
  const auto n = static_cast<std::int64_t>(stimulus_.size());
  // NeuroGym: ground_truth = choice(arange(n)), coh = choice(cohs); the action is ground_truth + 1.
  ground_truth_ = 1 + rng.integers(n);
  coh_ = cohs_[static_cast<std::size_t>(rng.integers(std::ssize(cohs_)))];
  if (conditions != nullptr) parse_conditions(*conditions, ground_truth_, coh_);
  ring_stimulus(stimulus_,
                ring_angle(static_cast<std::size_t>(ground_truth_ - 1), stimulus_.size()),
                coh_ / 200.0);
}

void PerceptualDecisionMakingEnv::write_observation(std::span<float> obs) {
  const std::size_t period = timeline_.period();
  const bool fixating = go_cue_ ? period != decision_period_ : period == fixation_period_;
  obs[0] = fixating ? 1.0F : 0.0F;
  if (period == stimulus_period_) {
    for (std::size_t i = 0; i < stimulus_.size(); ++i) {
      obs[1 + i] = static_cast<float>(stimulus_[i] + noise());
    }
  } else {
    std::fill(obs.begin() + 1, obs.end(), 0.0F);
  }
}

void PerceptualDecisionMakingEnv::add_info(Info& info, TrialOutcome /*outcome*/) {
  info.set("coh", coh_);
}

}  // namespace locus::envs
