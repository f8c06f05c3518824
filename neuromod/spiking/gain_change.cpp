#include "neuromod/spiking/gain_change.hpp"

#include <cmath>
#include <vector>

#include "neuromod/spiking/errors.hpp"
#include "util/nan.hpp"

namespace locus::neuromod::spiking {

namespace {

// How much smaller one model's residual must be for the change to be called of its kind.
constexpr double kClearly = 1.25;

double rms(const std::vector<double>& residuals) {
  double sum = 0.0;
  for (const double r : residuals) sum += r * r;
  return std::sqrt(sum / static_cast<double>(residuals.size()));
}

GainChange too_few_points(double from, double to, std::size_t points) {
  const double nan = util::kNaN;
  return {.fit_from = from,
          .fit_to = to,
          .points = points,
          .shift_only = nan,
          .scale_only = nan,
          .shift_only_rms = nan,
          .scale_only_rms = nan,
          .scale = nan,
          .shift = nan,
          .kind = "too few points"};
}

}  // namespace

GainChange compare_gain(const GainCurve& condition, const GainCurve& reference,
                        double threshold_rate, double from, double to) {
  if (condition.points.size() != reference.points.size()) {
    throw InvalidArgumentError("compare_gain: '" + condition.condition.label + "' has " +
                               std::to_string(condition.points.size()) + " inputs and '" +
                               reference.condition.label + "' " +
                               std::to_string(reference.points.size()) +
                               "; both curves must be measured at the same inputs");
  }
  std::vector<double> c, r;
  double first = util::kNaN, last = util::kNaN;
  for (std::size_t i = 0; i < condition.points.size(); ++i) {
    const GainPoint& a = condition.points[i];
    const GainPoint& b = reference.points[i];
    if (a.input != b.input) {
      throw InvalidArgumentError("compare_gain: the curves' inputs differ (" +
                                 std::to_string(a.input) + " Hz against " +
                                 std::to_string(b.input) + " Hz); measure both on one grid");
    }
    if (a.input < from || a.input > to || !(a.rate >= threshold_rate) ||
        !(b.rate >= threshold_rate)) {
      continue;
    }
    if (c.empty()) first = a.input;
    last = a.input;
    c.push_back(a.rate);
    r.push_back(b.rate);
  }
  const std::size_t n = c.size();
  if (n < 3) return too_few_points(first, last, n);
  const double count = static_cast<double>(n);
  double sc = 0.0, sr = 0.0, srr = 0.0, src = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    sc += c[i];
    sr += r[i];
    srr += r[i] * r[i];
    src += r[i] * c[i];
  }
  GainChange change{.fit_from = first, .fit_to = last, .points = n};
  change.shift_only = (sc - sr) / count;
  change.scale_only = src / srr;
  std::vector<double> shift_residuals(n), scale_residuals(n);
  for (std::size_t i = 0; i < n; ++i) {
    shift_residuals[i] = c[i] - r[i] - change.shift_only;
    scale_residuals[i] = c[i] - change.scale_only * r[i];
  }
  change.shift_only_rms = rms(shift_residuals);
  change.scale_only_rms = rms(scale_residuals);
  const double denominator = count * srr - sr * sr;
  change.scale = denominator == 0.0 ? util::kNaN : (count * src - sr * sc) / denominator;
  change.shift = (sc - change.scale * sr) / count;
  if (change.scale_only_rms > kClearly * change.shift_only_rms) {
    change.kind = "additive";
  } else if (change.shift_only_rms > kClearly * change.scale_only_rms) {
    change.kind = "multiplicative";
  } else {
    change.kind = "unclear";
  }
  return change;
}

}  // namespace locus::neuromod::spiking
