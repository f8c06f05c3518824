// The circuit's effects (arXiv 2507.03222), each beside the control that could explain it away, in
// every one of five seeds, with margins set from the spread measured over those seeds (seeds
// 1-5, 400 ms per input; the spread across seeds is under 1 Hz of shift and 0.02 of scale):
//  - dendritic drive shifts the rate curve up (additive: +24 Hz, scale-only fits worse); it needs
//    the back-propagating spike and the dendrite-to-soma current, and the reset switch carries
//    part of it (+14 Hz without it);
//  - SOM inhibition scales the curve down (multiplicative: x0.76);
//  - PV inhibition raises the threshold (+350-400 Hz) and lowers the curve (x0.71 or -15 Hz: of
//    no clean kind, the two models fit it about as well), and it gates: a stimulated patch
//    suppresses its surround through PV (-1.3 Hz at PV x1, -2.4 Hz at x3, nothing without PV);
//  - bursting does not speed up the net STDP drift beyond its post rate: against a tonic control
//    at the same rate the drift is the same (mean ratio 1.02), while single weights move more
//    (|dw| x1.38). Against tonic firing at a quarter of the rate it looks 1.6-2x faster. Under
//    the triplet rule, where a post spike counts more after other post spikes, bursts potentiate
//    6 % more than the rate-matched control.
// The circuits are the experiments' defaults (400 pyramidal, 50 PV, 50 SOM) with shorter runs and
// coarser input grids than the CLI's.

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "neuromod/spiking/experiments.hpp"
#include "neuromod/spiking/gain_change.hpp"
#include "neuromod/spiking/gating.hpp"
#include "neuromod/spiking/plasticity_control.hpp"

namespace spk = locus::neuromod::spiking;

namespace {

const std::vector<std::uint64_t> kSeeds = {1, 2, 3, 4, 5};
constexpr double kThresholdRate = 2.0;  // Hz, GainOptions' default
constexpr double kGatingNoise = 0.5;    // Hz: the control's surround moves less than this

spk::GainOptions quick_options(std::uint64_t seed) {
  spk::GainOptions options;
  for (double x = 1000.0; x <= 6000.0 + 1e-9; x += 500.0) options.somatic_rates.push_back(x);
  options.warmup = 100.0;
  options.duration = 400.0;
  options.seeds = {seed};
  return options;
}

spk::GainChange change(const spk::GainCurve& condition, const spk::GainCurve& reference) {
  return spk::compare_gain(condition, reference, kThresholdRate, 0.0, 1e9);
}

}  // namespace

TEST_CASE(
    "dendritic drive shifts the rate curve up, through the BAP and the dendrite-to-soma "
    "current",
    "[spiking][effects]") {
  const std::vector<spk::GainCondition> conditions = {
      {.label = "no dendritic drive", .dendritic_rate = 0.0},
      {.label = "dendritic drive", .dendritic_rate = 1000.0},
      {.label = "no dendrite-to-soma current", .dendritic_rate = 1000.0, .dendrite_to_soma = 0.0},
      {.label = "no back-propagating spike", .dendritic_rate = 1000.0, .bap = 0.0},
      {.label = "no reset switch", .dendritic_rate = 1000.0, .reset_switch = false},
  };
  for (const auto seed : kSeeds) {
    const auto curves = spk::run_gain_experiment(conditions, quick_options(seed));
    const auto driven = change(curves[1], curves[0]);
    const auto no_current = change(curves[2], curves[0]);
    const auto no_bap = change(curves[3], curves[0]);
    const auto no_switch = change(curves[4], curves[0]);
    CAPTURE(seed, driven.shift_only, driven.shift_only_rms, driven.scale_only,
            driven.scale_only_rms, no_current.shift_only, no_bap.shift_only, no_switch.shift_only);
    REQUIRE(driven.points >= 5);
    // An upward shift: the shift-only model fits better than the scale-only one.
    CHECK(driven.kind == "additive");
    CHECK(driven.shift_only > 15.0);
    // Without either path the drive does nothing to the curve.
    CHECK(std::fabs(no_current.shift_only) < 3.0);
    CHECK(std::fabs(no_bap.shift_only) < 3.0);
    // The reset switch carries part of the shift, not all of it.
    CHECK(no_switch.shift_only > 0.3 * driven.shift_only);
    CHECK(no_switch.shift_only < 0.8 * driven.shift_only);
  }
}

TEST_CASE("SOM inhibition scales the rate curve down, PV raises the threshold and scales it down",
          "[spiking][effects]") {
  const std::vector<spk::GainCondition> conditions = {
      {.label = "control", .dendritic_rate = 1000.0},
      {.label = "SOM x3", .dendritic_rate = 1000.0, .som_strength = 3.0},
      {.label = "PV x3", .dendritic_rate = 1000.0, .pv_strength = 3.0},
  };
  for (const auto seed : kSeeds) {
    const auto curves = spk::run_gain_experiment(conditions, quick_options(seed));
    const auto som = change(curves[1], curves[0]);
    const auto pv = change(curves[2], curves[0]);
    CAPTURE(seed, som.scale_only, som.scale_only_rms, som.shift_only_rms, pv.scale_only,
            pv.scale_only_rms, pv.shift_only_rms, curves[0].threshold, curves[1].threshold,
            curves[2].threshold);
    REQUIRE(som.points >= 5);
    REQUIRE(pv.points >= 5);
    CHECK(som.kind == "multiplicative");
    CHECK(som.scale_only < 0.85);
    CHECK(som.scale_only > 0.6);
    CHECK(som.scale_only_rms < 0.5 * som.shift_only_rms);
    // PV's change is no clean kind (multiplicative in some runs, unclear in others): only its
    // size is asserted.
    CHECK(pv.scale_only < 0.85);
    CHECK(pv.shift_only < -8.0);
    // PV moves the threshold by more than half a grid step, and far more than SOM does.
    const double pv_move = curves[2].threshold - curves[0].threshold;
    CHECK(pv_move > 200.0);
    CHECK(std::fabs(curves[1].threshold - curves[0].threshold) < 0.5 * pv_move);
  }
}

TEST_CASE("bursting does not speed up the net STDP drift beyond its post rate",
          "[spiking][effects][stdp]") {
  spk::PlasticityOptions options;
  options.duration = 1500.0;
  double bursting_drift = 0.0, matched_drift = 0.0;
  for (const auto seed : kSeeds) {
    options.seeds = {seed};
    const auto results =
        spk::run_rate_matched_plasticity({.label = "bursting", .dendritic_rate = 1000.0}, options);
    const auto& bursting = results[0];
    const auto& tonic = results[1];
    const auto& matched = results[2];
    CAPTURE(seed, bursting.post_rate, tonic.post_rate, matched.post_rate, bursting.burst_fraction,
            matched.burst_fraction, bursting.weight_change_per_s, tonic.weight_change_per_s,
            matched.weight_change_per_s, bursting.abs_weight_change_per_s,
            matched.abs_weight_change_per_s);
    // The control fires as fast, without the bursts.
    CHECK(std::fabs(matched.post_rate - bursting.post_rate) < 1.0);
    CHECK(bursting.burst_fraction > matched.burst_fraction + 0.3);
    // Against slower tonic firing, bursting looks like faster learning...
    CHECK(bursting.weight_change_per_s > 1.3 * tonic.weight_change_per_s);
    // ...but single weights are what bursts move more at the same rate.
    CHECK(bursting.abs_weight_change_per_s > 1.2 * matched.abs_weight_change_per_s);
    bursting_drift += bursting.weight_change_per_s;
    matched_drift += matched.weight_change_per_s;
  }
  // The net drift is the rate's: within 25 % of the rate-matched control's over the five seeds
  // (measured 1.02; per seed 0.92-1.26).
  CAPTURE(bursting_drift, matched_drift);
  CHECK(bursting_drift > 0.8 * matched_drift);
  CHECK(bursting_drift < 1.25 * matched_drift);
}

TEST_CASE("PV gates the neighbours of a stimulated patch, without PV nothing is gated",
          "[spiking][effects][gating]") {
  // Measured (1000 ms, seeds 1-5): the surround's evoked rate is -0.05 Hz without PV (per seed
  // -0.52 to +0.53), -1.26 Hz at PV x1 (-0.84 to -1.80), -2.35 Hz at PV x3 (-1.83 to -2.91).
  spk::GatingOptions options;
  options.pv_strengths = {0.0, 1.0, 3.0};
  double control_sum = 0.0, pv_sum = 0.0, raised_sum = 0.0;
  for (const auto seed : kSeeds) {
    options.seeds = {seed};
    const auto profiles = spk::run_gating_experiment(options);
    const auto& control = profiles[0];
    const auto& pv = profiles[1];
    const auto& raised = profiles[2];
    CAPTURE(seed, control.centre_evoked, pv.centre_evoked, raised.centre_evoked,
            control.surround_evoked, pv.surround_evoked, raised.surround_evoked);
    // The stimulus drives its patch in every condition.
    CHECK(control.centre_evoked > 15.0);
    CHECK(raised.centre_evoked > 15.0);
    // Without PV inhibition the surround does not notice it; with PV it is suppressed.
    CHECK(std::fabs(control.surround_evoked) < 1.0);
    CHECK(pv.surround_evoked < -0.6);
    CHECK(raised.surround_evoked < -1.4);
    control_sum += control.surround_evoked;
    pv_sum += pv.surround_evoked;
    raised_sum += raised.surround_evoked;
  }
  const double n = static_cast<double>(kSeeds.size());
  CAPTURE(control_sum / n, pv_sum / n, raised_sum / n);
  CHECK(std::fabs(control_sum / n) < 0.3);
  CHECK(pv_sum / n < control_sum / n - 0.8);
  // More PV, more gating.
  CHECK(raised_sum / n < pv_sum / n - 0.6);
}

TEST_CASE("under the triplet rule bursts potentiate more than tonic firing at the same rate",
          "[spiking][effects][stdp]") {
  // Measured (1500 ms, learning rate 0.05 so that no weight saturates): bursting over the
  // rate-matched control's net drift 1.049-1.068 in seeds 1-5; the pair rule gives 1.02.
  spk::PlasticityOptions options;
  options.duration = 1500.0;
  options.base.stdp.rule = spk::StdpRule::kTriplet;
  options.base.stdp.learning_rate = 0.05;
  double ratio_sum = 0.0;
  for (const auto seed : kSeeds) {
    options.seeds = {seed};
    const auto results =
        spk::run_rate_matched_plasticity({.label = "bursting", .dendritic_rate = 1000.0}, options);
    const auto& bursting = results[0];
    const auto& matched = results[2];
    const double ratio = bursting.weight_change_per_s / matched.weight_change_per_s;
    CAPTURE(seed, bursting.post_rate, matched.post_rate, bursting.weight_change_per_s,
            matched.weight_change_per_s, ratio);
    CHECK(std::fabs(matched.post_rate - bursting.post_rate) < 1.0);
    CHECK(matched.weight_change_per_s > 0.0);
    CHECK(ratio > 1.02);
    ratio_sum += ratio;
  }
  CHECK(ratio_sum / static_cast<double>(kSeeds.size()) > 1.04);
}
