// compare_gain on curves made by hand: a pure shift, a pure scaling, and the errors.

#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <vector>

#include "neuromod/spiking/errors.hpp"
#include "neuromod/spiking/gain_change.hpp"

namespace spk = locus::neuromod::spiking;

namespace {

spk::GainCurve curve(const std::string& label, const std::vector<double>& inputs,
                     const std::function<double(double)>& rate) {
  spk::GainCurve out;
  out.condition.label = label;
  for (const double x : inputs) out.points.push_back({.input = x, .rate = rate(x)});
  return out;
}

const std::vector<double> kInputs = {0, 500, 1000, 1500, 2000, 2500, 3000};

double reference_rate(double x) {
  // Silent below 1000 Hz of input, then rising and bending.
  return x < 1000.0 ? 0.0 : 0.02 * (x - 1000.0) + 4.0 * std::sqrt((x - 1000.0) / 1000.0);
}

}  // namespace

TEST_CASE("a shifted curve is additive and a scaled one multiplicative", "[spiking][gain]") {
  const auto reference = curve("reference", kInputs, reference_rate);
  const auto shifted = curve("shifted", kInputs, [](double x) { return reference_rate(x) + 10; });
  const auto scaled = curve("scaled", kInputs, [](double x) { return 1.5 * reference_rate(x); });

  const auto shift = spk::compare_gain(shifted, reference, 2.0, 0.0, 1e9);
  CHECK(shift.kind == "additive");
  CHECK(shift.shift_only == Approx(10.0));
  CHECK(shift.shift_only_rms == Approx(0.0).margin(1e-9));
  CHECK(shift.scale == Approx(1.0));
  CHECK(shift.shift == Approx(10.0));
  // Only the inputs where both curves reach the threshold rate are fitted: 1500 Hz and up.
  CHECK(shift.fit_from == 1500.0);
  CHECK(shift.fit_to == 3000.0);
  CHECK(shift.points == 4);

  const auto scale = spk::compare_gain(scaled, reference, 2.0, 0.0, 1e9);
  CHECK(scale.kind == "multiplicative");
  CHECK(scale.scale_only == Approx(1.5));
  CHECK(scale.scale_only_rms == Approx(0.0).margin(1e-9));
  CHECK(scale.shift == Approx(0.0).margin(1e-9));
}

TEST_CASE("a curve neither model fits clearly better is unclear", "[spiking][gain]") {
  const auto reference = curve("reference", kInputs, reference_rate);
  const auto same = spk::compare_gain(reference, reference, 2.0, 0.0, 1e9);
  CHECK(same.kind == "unclear");
  CHECK(same.shift_only == Approx(0.0).margin(1e-12));
  CHECK(same.scale_only == Approx(1.0));
}

TEST_CASE("the fitted range is the one asked for", "[spiking][gain]") {
  const auto reference = curve("reference", kInputs, reference_rate);
  const auto shifted = curve("shifted", kInputs, [](double x) { return reference_rate(x) + 3; });
  const auto change = spk::compare_gain(shifted, reference, 2.0, 2000.0, 2500.0);
  CHECK(change.kind == "too few points");
  CHECK(change.points == 2);
  CHECK(std::isnan(change.shift_only));
  const auto wide = spk::compare_gain(shifted, reference, 2.0, 1500.0, 3000.0);
  CHECK(wide.points == 4);
}

TEST_CASE("curves on different inputs are refused", "[spiking][gain]") {
  const auto reference = curve("reference", kInputs, reference_rate);
  auto other = curve("other", kInputs, reference_rate);
  other.points[3].input += 1.0;
  CHECK_THROWS_AS(spk::compare_gain(other, reference, 2.0, 0.0, 1e9), spk::InvalidArgumentError);
  other.points.pop_back();
  CHECK_THROWS_WITH(spk::compare_gain(other, reference, 2.0, 0.0, 1e9),
                    Catch::Contains("same inputs"));
}
