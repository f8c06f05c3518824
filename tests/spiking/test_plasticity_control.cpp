// The rate-matched control's search: it finds the somatic drive of a target post rate, and says
// when the target is out of reach.

#include <catch2/catch.hpp>
#include <cmath>

#include "neuromod/spiking/errors.hpp"
#include "neuromod/spiking/plasticity_control.hpp"

namespace spk = locus::neuromod::spiking;

namespace {

spk::PlasticityOptions short_options() {
  spk::PlasticityOptions options;
  options.warmup = 50.0;
  options.duration = 300.0;
  options.seeds = {7};
  return options;
}

}  // namespace

TEST_CASE("the matched somatic drive gives the target post rate", "[spiking][stdp]") {
  const auto options = short_options();
  const spk::PlasticityCondition tonic{.label = "tonic"};
  const double somatic = spk::matching_somatic_rate(tonic, options, 20.0);
  spk::PlasticityCondition matched = tonic;
  matched.somatic_rate = somatic;
  const auto result = spk::run_plasticity_experiment({matched}, options).front();
  CAPTURE(somatic, result.post_rate);
  CHECK(std::fabs(result.post_rate - 20.0) <= 0.5);
}

TEST_CASE("a post rate out of the bracket's reach is refused with the fix", "[spiking][stdp]") {
  const auto options = short_options();
  CHECK_THROWS_WITH(spk::matching_somatic_rate({.label = "tonic"}, options, 5000.0),
                    Catch::Contains("widen the bracket"));
  CHECK_THROWS_AS(
      spk::matching_somatic_rate({.label = "tonic"}, options, 20.0, {.low = 5, .high = 1}),
      spk::InvalidArgumentError);
}
