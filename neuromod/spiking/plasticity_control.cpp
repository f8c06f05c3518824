#include "neuromod/spiking/plasticity_control.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "neuromod/spiking/errors.hpp"

namespace locus::neuromod::spiking {

namespace {

double post_rate_at(PlasticityCondition condition, const PlasticityOptions& options,
                    double somatic_rate) {
  condition.somatic_rate = somatic_rate;
  return run_plasticity_experiment({condition}, options).front().post_rate;
}

}  // namespace

double matching_somatic_rate(const PlasticityCondition& condition, const PlasticityOptions& options,
                             double target_rate, const RateMatchOptions& search) {
  if (!(search.low >= 0.0) || !(search.high > search.low) || !(search.tolerance > 0.0) ||
      search.max_iterations < 1) {
    throw InvalidArgumentError(
        "rate matching: need 0 <= low < high, tolerance > 0 and max_iterations >= 1");
  }
  double low = search.low, high = search.high;
  const double rate_low = post_rate_at(condition, options, low);
  const double rate_high = post_rate_at(condition, options, high);
  if (!(target_rate >= rate_low && target_rate <= rate_high)) {
    throw InvalidArgumentError(
        "rate matching: '" + condition.label + "' fires at " + std::to_string(rate_low) + " to " +
        std::to_string(rate_high) + " Hz for somatic input of " + std::to_string(low) + " to " +
        std::to_string(high) + " Hz, which does not include the target " +
        std::to_string(target_rate) + " Hz; widen the bracket (RateMatchOptions low, high)");
  }
  // A finite circuit's rate is noisy in the drive at fine scales, so the closest probe is kept.
  double best =
      std::fabs(rate_low - target_rate) <= std::fabs(rate_high - target_rate) ? low : high;
  double best_error =
      std::min(std::fabs(rate_low - target_rate), std::fabs(rate_high - target_rate));
  for (int i = 0; i < search.max_iterations && best_error > search.tolerance; ++i) {
    const double middle = 0.5 * (low + high);
    const double rate = post_rate_at(condition, options, middle);
    if (std::fabs(rate - target_rate) < best_error) {
      best = middle;
      best_error = std::fabs(rate - target_rate);
    }
    (rate < target_rate ? low : high) = middle;
  }
  return best;
}

PlasticityCondition rate_matched_control(const PlasticityCondition& bursting,
                                         const PlasticityOptions& options,
                                         const RateMatchOptions& search) {
  const double target = run_plasticity_experiment({bursting}, options).front().post_rate;
  PlasticityCondition matched = bursting;
  matched.label = "tonic at the rate of " + bursting.label;
  matched.dendritic_rate = 0.0;
  matched.somatic_rate = matching_somatic_rate(matched, options, target, search);
  return matched;
}

std::vector<PlasticityResult> run_rate_matched_plasticity(const PlasticityCondition& bursting,
                                                          const PlasticityOptions& options,
                                                          const RateMatchOptions& search) {
  PlasticityCondition tonic = bursting;
  tonic.label = "tonic";
  tonic.dendritic_rate = 0.0;
  tonic.somatic_rate.reset();
  return run_plasticity_experiment(
      {bursting, tonic, rate_matched_control(bursting, options, search)}, options);
}

}  // namespace locus::neuromod::spiking
