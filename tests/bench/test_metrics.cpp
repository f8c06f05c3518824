// The metrics of docs/bench.md on small hand-computed accuracy matrices and curves, including the
// edge cases: one task, a gap that never recovers (censored), perfect retention.

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "bench/harness/errors.hpp"
#include "bench/harness/metrics.hpp"

using namespace locus::bench;
using Catch::Matchers::Contains;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Hand-computed values are sums of a few doubles; 1e-12 covers their rounding.
constexpr double kTolerance = 1e-12;
}  // namespace

TEST_CASE("ACC, BWT, FWT and forgetting of a 3-task matrix", "[metrics]") {
  const AccuracyMatrix r = {{0.9, 0.1, 0.2}, {0.95, 0.8, 0.3}, {0.5, 0.7, 0.95}};
  const std::vector<double> initial = {0.1, 0.15, 0.2};
  CHECK(average_accuracy(r) == Approx((0.5 + 0.7 + 0.95) / 3).margin(kTolerance));
  // ((0.5 - 0.9) + (0.7 - 0.8)) / 2
  CHECK(backward_transfer(r) == Approx(-0.25).margin(kTolerance));
  // ((0.1 - 0.15) + (0.3 - 0.2)) / 2
  CHECK(forward_transfer(r, initial) == Approx(0.025).margin(kTolerance));
  // task 0: max(0.9, 0.95) - 0.5 = 0.45; task 1: max(0.1, 0.8) - 0.7 = 0.1 (differs from -BWT:
  // task 0 peaked after its own block)
  CHECK(average_forgetting(r) == Approx(0.275).margin(kTolerance));
}

TEST_CASE("one task: ACC only, the rest undefined", "[metrics][edge]") {
  const AccuracyMatrix r = {{0.8}};
  CHECK(average_accuracy(r) == 0.8);
  CHECK(std::isnan(backward_transfer(r)));
  CHECK(std::isnan(forward_transfer(r, std::vector<double>{0.1})));
  CHECK(std::isnan(average_forgetting(r)));
  const std::vector<std::int64_t> iterations = {0, 5, 10};
  const std::vector<double> values = {0.1, 0.6, 0.8};
  const std::vector<std::int64_t> ends = {10};
  CHECK(std::isnan(average_stability_gap({iterations, values, ends})));
  const std::vector<std::vector<double>> curves = {values};
  CHECK(std::isnan(min_accuracy(curves, iterations, ends, 2, 0)));
  CHECK(worst_case_accuracy(curves, iterations, ends, 2, 0) == 0.8);
}

TEST_CASE("perfect retention: BWT and forgetting are zero, no gap", "[metrics][edge]") {
  const AccuracyMatrix r = {{0.9, 0.5, 0.5}, {0.9, 0.8, 0.5}, {0.9, 0.8, 0.7}};
  CHECK(backward_transfer(r) == 0.0);
  CHECK(average_forgetting(r) == 0.0);
  const std::vector<std::int64_t> iterations = {0, 1, 2, 3, 4, 5, 6};
  const std::vector<double> flat = {0.1, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9};
  const std::vector<std::int64_t> ends = {2, 4, 6};
  const CurveView curve{iterations, flat, ends};
  CHECK(average_stability_gap(curve) == 0.0);
  const GapShape gap = gap_shape(curve, 0, 0.0);
  CHECK(gap.depth == 0.0);
  CHECK(gap.recovery == 0);
  CHECK_FALSE(gap.censored);
  CHECK(gap.area == 0.0);
}

TEST_CASE("matrix shape errors name the row", "[metrics][errors]") {
  CHECK_THROWS_WITH(average_accuracy({{0.1, 0.2}, {0.3}}), Contains("row 1 has 1 entries"));
  CHECK_THROWS_AS(average_accuracy({}), InvalidArgumentError);
  CHECK_THROWS_WITH(forward_transfer({{0.1}}, std::vector<double>{}),
                    Contains("one initial accuracy per task"));
}

TEST_CASE("stability gap per boundary and its mean", "[metrics][gap]") {
  // Blocks end at 10, 20, 30; evaluations every 2 iterations.
  const std::vector<std::int64_t> iterations = {0,  2,  4,  6,  8,  10, 12, 14,
                                                16, 18, 20, 22, 24, 26, 28, 30};
  const std::vector<double> values = {0.1, 0.5, 0.7, 0.8, 0.9,  0.9, 0.4, 0.6,
                                      0.8, 0.9, 0.9, 0.9, 0.88, 0.9, 0.9, 0.9};
  const std::vector<std::int64_t> ends = {10, 20, 30};
  const CurveView curve{iterations, values, ends};
  CHECK(stability_gap(curve, 0) == Approx((0.9 - 0.4) / 0.9).margin(kTolerance));
  CHECK(stability_gap(curve, 1) == Approx((0.9 - 0.88) / 0.9).margin(kTolerance));
  CHECK(average_stability_gap(curve) ==
        Approx(((0.9 - 0.4) / 0.9 + (0.9 - 0.88) / 0.9) / 2).margin(kTolerance));
  CHECK_THROWS_WITH(stability_gap(curve, 2), Contains("boundary 2 out of range"));

  // Boundary 0: baseline = mean of the 5 evaluations of block 0 (t = 2..10) = 0.76; the smoothed
  // curve of block 1 peaks at 0.72 < 0.76 - 0.02, so recovery is censored at the block's length.
  const GapShape censored = gap_shape(curve, 0, 0.02);
  CHECK(censored.baseline == Approx(0.76).margin(kTolerance));
  CHECK(censored.depth == Approx(0.36).margin(kTolerance));
  CHECK(censored.area == Approx(0.36 + 0.16).margin(kTolerance));
  CHECK(censored.censored);
  CHECK(censored.recovery == 10);
  // Boundary 1: baseline 0.72 and block 2 never falls below it: recovered at once.
  const GapShape none = gap_shape(curve, 1, 0.02);
  CHECK(none.baseline == Approx(0.72).margin(kTolerance));
  CHECK(none.depth == Approx(0.72 - 0.88).margin(kTolerance));
  CHECK(none.area == 0.0);
  CHECK(none.recovery == 0);
  CHECK_FALSE(none.censored);
}

TEST_CASE("the stability gap of the seeds' mean curve, against the mean of their gaps",
          "[metrics][gap]") {
  // Two seeds, blocks ending at 4 and 8, evaluated every iteration: each dips to 0.2 once after
  // the switch, at different iterations, so their mean curve dips only to 0.55.
  const std::vector<std::int64_t> iterations = {0, 1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<std::int64_t> ends = {4, 8};
  const std::vector<double> a = {0.1, 0.5, 0.8, 0.9, 0.9, 0.2, 0.9, 0.9, 0.9};
  const std::vector<double> b = {0.1, 0.5, 0.8, 0.9, 0.9, 0.9, 0.2, 0.9, 0.9};
  const std::vector<CurveView> seeds = {{iterations, a, ends}, {iterations, b, ends}};
  const double per_seed = (average_stability_gap(seeds[0]) + average_stability_gap(seeds[1])) / 2;
  CHECK(per_seed == Approx((0.9 - 0.2) / 0.9).margin(kTolerance));
  CHECK(stability_gap_of_mean_curve(seeds) == Approx((0.9 - 0.55) / 0.9).margin(kTolerance));
  const std::vector<std::int64_t> other_ends = {3, 8};
  const std::vector<CurveView> mixed = {{iterations, a, ends}, {iterations, b, other_ends}};
  CHECK_THROWS_WITH(stability_gap_of_mean_curve(mixed), Contains("different schedules"));
}

TEST_CASE("recovery time uses the trailing 5-point mean after the minimum", "[metrics][gap]") {
  std::vector<std::int64_t> iterations;
  for (std::int64_t t = 1; t <= 15; ++t) iterations.push_back(t);
  const std::vector<double> values = {1, 1, 1, 1, 1, 0.2, 0.5, 1, 1, 1, 1, 1, 1, 1, 1};
  const std::vector<std::int64_t> ends = {5, 15};
  const CurveView curve{iterations, values, ends};
  // Smoothed from t = 6: 0.2, 0.35, 0.567, 0.675, 0.74, 0.9, 1.0: within 0.05 of 1 first at t = 12.
  const GapShape gap = gap_shape(curve, 0, 0.05);
  CHECK(gap.baseline == 1.0);
  CHECK(gap.depth == Approx(0.8).margin(kTolerance));
  CHECK(gap.area == Approx(0.8 + 0.5).margin(kTolerance));
  CHECK(gap.recovery == 7);
  CHECK_FALSE(gap.censored);
  // A wider band (0.3) is reached at t = 10 (smoothed 0.74).
  CHECK(gap_shape(curve, 0, 0.3).recovery == 5);
  // A 1-point window is the raw curve: back within 0.05 at t = 8.
  CHECK(gap_shape(curve, 0, 0.05, 1).recovery == 3);
  CHECK(stability_gap(curve, 0) == Approx(0.8).margin(kTolerance));
  CHECK_THROWS_AS(gap_shape(curve, 0, -0.1), InvalidArgumentError);
}

TEST_CASE("min-ACC and WC-ACC at the end and midway", "[metrics][min_acc]") {
  const std::vector<std::int64_t> iterations = {0, 1, 2, 3, 4, 5, 6};
  const std::vector<std::int64_t> ends = {2, 4, 6};
  const std::vector<std::vector<double>> curves = {{0.1, 0.5, 0.9, 0.6, 0.8, 0.7, 0.75},
                                                   {kNaN, kNaN, kNaN, 0.4, 0.9, 0.5, 0.6},
                                                   {kNaN, kNaN, kNaN, kNaN, kNaN, 0.3, 0.8}};
  // Task 0 after t = 2: min 0.6; task 1 after t = 4: min 0.5.
  CHECK(min_accuracy(curves, iterations, ends, 6, 2) == Approx(0.55).margin(kTolerance));
  CHECK(worst_case_accuracy(curves, iterations, ends, 6, 2) ==
        Approx(0.8 / 3 + (2.0 / 3) * 0.55).margin(kTolerance));
  // At t = 4 (still training task 1): only task 0 counts, up to t = 4.
  CHECK(min_accuracy(curves, iterations, ends, 4, 1) == Approx(0.6).margin(kTolerance));
  CHECK(worst_case_accuracy(curves, iterations, ends, 4, 1) ==
        Approx(0.5 * 0.9 + 0.5 * 0.6).margin(kTolerance));
  CHECK_THROWS_WITH(min_accuracy(curves, iterations, ends, 7, 2), Contains("evaluation index 7"));
}

TEST_CASE("mean and sample sd skip NaN", "[metrics]") {
  const std::vector<double> values = {1.0, 2.0, 3.0, kNaN};
  const MeanSd s = mean_sd(values);
  CHECK(s.count == 3);
  CHECK(s.mean == 2.0);
  CHECK(s.sd == 1.0);
  CHECK(std::isnan(mean_sd(std::vector<double>{5.0}).sd));
  CHECK(std::isnan(mean_sd(std::vector<double>{}).mean));
}
