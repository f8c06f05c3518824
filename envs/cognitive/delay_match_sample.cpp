#include "envs/cognitive/delay_match_sample.hpp"

#include <algorithm>
#include <cmath>

#include "envs/errors.hpp"

namespace locus::envs {

DelayMatchSampleEnv::Parsed DelayMatchSampleEnv::parse(const Kwargs& kwargs) {
  KwargsReader reader(kwargs, "DelayMatchSample");
  const Defaults defaults{.dt = 100.0,
                          .sigma = 1.0,
                          .rewards = {.abort = -0.1, .correct = 1.0, .fail = 0.0, .miss = 0.0},
                          .reward_keys = {"abort", "correct", "fail", "miss"},
                          .periods = {{"fixation", PeriodDuration::constant(300)},
                                      {"sample", PeriodDuration::constant(500)},
                                      {"delay", PeriodDuration::constant(1000)},
                                      {"test", PeriodDuration::constant(500)},
                                      {"decision", PeriodDuration::constant(900)}}};
  Settings settings;
  TrialTimeline timeline = read_common(reader, defaults, settings);
  const std::int64_t dim_ring = reader.get<std::int64_t>("dim_ring", 2);
  reader.finish();
  if (dim_ring < 2 || dim_ring > 1024) {
    throw InvalidArgumentError("DelayMatchSample: 'dim_ring' must be in [2, 1024], got " +
                               std::to_string(dim_ring));
  }
  return {std::move(timeline), settings, dim_ring};
}

DelayMatchSampleEnv::DelayMatchSampleEnv(const Kwargs& kwargs)
    : DelayMatchSampleEnv(std::in_place, parse(kwargs)) {}

DelayMatchSampleEnv::DelayMatchSampleEnv(std::in_place_t, Parsed parsed)
    : TrialEnv("DelayMatchSample", std::move(parsed.timeline), parsed.settings,
               1 + static_cast<std::size_t>(parsed.dim_ring), 0.0, 1.0, 3,
               /*go_no_go_outcomes=*/false),
      sample_period_(timeline_.find("sample")),
      test_period_(timeline_.find("test")),
      sample_stimulus_(static_cast<std::size_t>(parsed.dim_ring), 0.5),
      test_stimulus_(static_cast<std::size_t>(parsed.dim_ring), 0.5) {}

void DelayMatchSampleEnv::parse_conditions(const Kwargs& conditions, std::int64_t& ground_truth,
                                           std::int64_t& sample) const {
  const std::string context = "DelayMatchSample trial conditions";
  KwargsReader reader(conditions, context);
  ground_truth = reader.get<std::int64_t>("ground_truth", ground_truth);
  sample = reader.get<std::int64_t>("sample", sample);
  reader.finish();
  if (ground_truth != 1 && ground_truth != 2) {
    throw InvalidArgumentError(context +
                               ": 'ground_truth' must be 1 (match) or 2 (non-match), got " +
                               std::to_string(ground_truth));
  }
  const auto n = static_cast<std::int64_t>(sample_stimulus_.size());
  if (sample < 0 || sample >= n) {
    throw InvalidArgumentError(context + ": 'sample' is a ring index, 0 to " +
                               std::to_string(n - 1) + ", got " + std::to_string(sample));
  }
}

void DelayMatchSampleEnv::check_conditions(const Kwargs& conditions) const {
  std::int64_t ground_truth = 1;
  std::int64_t sample = 0;
  parse_conditions(conditions, ground_truth, sample);
}

void DelayMatchSampleEnv::draw_trial(Rng& rng, const Kwargs* conditions) {
  const std::size_t n = sample_stimulus_.size();
  // NeuroGym: ground_truth = choice([1, 2]), sample_theta = choice(theta).
  ground_truth_ = 1 + rng.integers(2);
  sample_ = rng.integers(static_cast<std::int64_t>(n));
  if (conditions != nullptr) parse_conditions(*conditions, ground_truth_, sample_);
  constexpr double kPi = 3.14159265358979323846;
  const double sample_theta = ring_angle(static_cast<std::size_t>(sample_), n);
  // np.mod(sample + pi, 2 pi): both operands positive, so fmod gives the same value.
  const double test_theta =
      ground_truth_ == 1 ? sample_theta : std::fmod(sample_theta + kPi, 2 * kPi);
  ring_stimulus(sample_stimulus_, sample_theta, 0.5);
  ring_stimulus(test_stimulus_, test_theta, 0.5);
}

void DelayMatchSampleEnv::write_observation(std::span<float> obs) {
  const std::size_t period = timeline_.period();
  obs[0] = period == decision_period_ ? 0.0F : 1.0F;
  const std::vector<double>* stimulus = period == sample_period_ ? &sample_stimulus_
                                        : period == test_period_ ? &test_stimulus_
                                                                 : nullptr;
  if (stimulus != nullptr) {
    for (std::size_t i = 0; i < stimulus->size(); ++i) {
      obs[1 + i] = static_cast<float>((*stimulus)[i] + noise());
    }
  } else {
    std::fill(obs.begin() + 1, obs.end(), 0.0F);
  }
}

void DelayMatchSampleEnv::add_info(Info& info, TrialOutcome /*outcome*/) {
  info.set("sample", sample_);
}

}  // namespace locus::envs
