// The circuit's qualitative effects (arXiv 2507.03222), each in every one of several seeds and
// with a margin: dendritic drive and coupling raise the gain through bursts, SOM inhibition lowers
// the gain, PV inhibition raises the threshold, bursting speeds up STDP. The circuits are the
// experiments' defaults (400 pyramidal, 50 PV, 50 SOM) with shorter runs and coarser input grids
// than the CLI's.

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "neuromod/spiking/experiments.hpp"

namespace spk = locus::neuromod::spiking;

namespace {

const std::vector<std::uint64_t> kSeeds = {1, 2, 3};

spk::GainOptions quick_options(std::uint64_t seed, std::vector<double> rates) {
  spk::GainOptions options;
  options.somatic_rates = std::move(rates);
  options.warmup = 100.0;
  options.duration = 400.0;
  options.seeds = {seed};
  return options;
}

std::vector<double> grid(double from, double to, double step) {
  std::vector<double> values;
  for (double x = from; x <= to + 1e-9; x += step) values.push_back(x);
  return values;
}

double max_burst_fraction(const spk::GainCurve& curve) {
  double best = 0.0;
  for (const auto& p : curve.points) best = std::max(best, p.burst_fraction);
  return best;
}

}  // namespace

TEST_CASE("dendritic drive and tighter coupling raise the gain through bursts",
          "[spiking][effects]") {
  const std::vector<spk::GainCondition> conditions = {
      {.label = "no dendritic drive", .dendritic_rate = 0.0, .coupling = 1.0},
      {.label = "dendritic drive", .dendritic_rate = 1000.0, .coupling = 1.0},
      {.label = "dendritic drive, loose coupling", .dendritic_rate = 1000.0, .coupling = 0.5},
  };
  double mean_gain[3] = {0.0, 0.0, 0.0};
  for (const auto seed : kSeeds) {
    const auto curves =
        spk::run_gain_experiment(conditions, quick_options(seed, grid(500.0, 3500.0, 375.0)));
    const double plain = curves[0].gain, driven = curves[1].gain, loose = curves[2].gain;
    CAPTURE(seed, plain, driven, loose, max_burst_fraction(curves[0]),
            max_burst_fraction(curves[1]), max_burst_fraction(curves[2]));
    REQUIRE(std::isfinite(plain));
    REQUIRE(std::isfinite(driven));
    REQUIRE(std::isfinite(loose));
    CHECK(driven > 1.2 * plain);
    CHECK(driven > 1.2 * loose);
    // Through bursts: the driven, coupled cells burst far more.
    CHECK(max_burst_fraction(curves[1]) > max_burst_fraction(curves[0]) + 0.2);
    CHECK(max_burst_fraction(curves[1]) > max_burst_fraction(curves[2]) + 0.2);
    for (int c = 0; c < 3; ++c) mean_gain[c] += curves[static_cast<std::size_t>(c)].gain / 3.0;
  }
  CAPTURE(mean_gain[0], mean_gain[1], mean_gain[2]);
  CHECK(mean_gain[1] > 1.3 * mean_gain[0]);
  CHECK(mean_gain[1] > 1.3 * mean_gain[2]);
}

TEST_CASE("SOM inhibition lowers the gain; PV inhibition raises the threshold",
          "[spiking][effects]") {
  const std::vector<spk::GainCondition> conditions = {
      {.label = "control", .dendritic_rate = 1000.0},
      {.label = "SOM x3", .dendritic_rate = 1000.0, .som_strength = 3.0},
      {.label = "PV x3", .dendritic_rate = 1000.0, .pv_strength = 3.0},
  };
  for (const auto seed : kSeeds) {
    const auto curves =
        spk::run_gain_experiment(conditions, quick_options(seed, grid(750.0, 2750.0, 250.0)));
    const auto& control = curves[0];
    const auto& som = curves[1];
    const auto& pv = curves[2];
    CAPTURE(seed, control.gain, som.gain, pv.gain, control.threshold, som.threshold, pv.threshold);
    REQUIRE(std::isfinite(control.threshold));
    REQUIRE(std::isfinite(pv.threshold));
    CHECK(som.gain < 0.9 * control.gain);
    // The threshold moves by more than half a grid step, and much further than SOM moves it.
    CHECK(pv.threshold > control.threshold + 150.0);
    CHECK(pv.threshold - control.threshold > 2.0 * std::fabs(som.threshold - control.threshold));
  }
}

TEST_CASE("bursting speeds up STDP", "[spiking][effects][stdp]") {
  spk::PlasticityOptions options;
  options.duration = 1500.0;
  options.seeds = kSeeds;
  const std::vector<spk::PlasticityCondition> conditions = {
      {.label = "regular", .dendritic_rate = 0.0},
      {.label = "bursting", .dendritic_rate = 1000.0},
  };
  for (const auto seed : kSeeds) {
    options.seeds = {seed};
    const auto results = spk::run_plasticity_experiment(conditions, options);
    const auto& regular = results[0];
    const auto& bursting = results[1];
    CAPTURE(seed, regular.burst_fraction, bursting.burst_fraction, regular.weight_change_per_s,
            bursting.weight_change_per_s, regular.abs_weight_change_per_s,
            bursting.abs_weight_change_per_s);
    CHECK(bursting.burst_fraction > regular.burst_fraction + 0.3);
    // Weights move faster (in size), and the net potentiation grows too.
    CHECK(bursting.abs_weight_change_per_s > 1.5 * regular.abs_weight_change_per_s);
    CHECK(regular.weight_change_per_s > 0.0);
    CHECK(bursting.weight_change_per_s > 1.2 * regular.weight_change_per_s);
  }
}
