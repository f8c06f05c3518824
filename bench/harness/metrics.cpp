#include "bench/harness/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "bench/harness/errors.hpp"
#include "util/nan.hpp"

namespace locus::bench {

namespace {

using util::kNaN;

std::size_t check_square(const AccuracyMatrix& r) {
  if (r.empty()) throw InvalidArgumentError("accuracy matrix is empty; it needs at least one task");
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r[i].size() != r.size()) {
      throw InvalidArgumentError(fmt::format(
          "accuracy matrix row {} has {} entries; a matrix of {} tasks needs {} per row", i,
          r[i].size(), r.size(), r.size()));
    }
  }
  return r.size();
}

void check_curve(const CurveView& curve) {
  if (curve.iterations.size() != curve.values.size()) {
    throw InvalidArgumentError(fmt::format("curve has {} iterations but {} values; they must match",
                                           curve.iterations.size(), curve.values.size()));
  }
  if (!std::is_sorted(curve.iterations.begin(), curve.iterations.end()) ||
      !std::is_sorted(curve.block_ends.begin(), curve.block_ends.end())) {
    throw InvalidArgumentError("curve iterations and block ends must be in increasing order");
  }
}

void check_boundary(const CurveView& curve, std::size_t boundary) {
  if (boundary + 1 >= curve.block_ends.size()) {
    throw InvalidArgumentError(
        fmt::format("boundary {} out of range: {} blocks have boundaries 0..{}", boundary,
                    curve.block_ends.size(), static_cast<long>(curve.block_ends.size()) - 2));
  }
}

// The last finite value at an iteration <= t, or NaN.
double value_at_or_before(const CurveView& curve, std::int64_t t) {
  double value = kNaN;
  for (std::size_t e = 0; e < curve.iterations.size() && curve.iterations[e] <= t; ++e) {
    if (std::isfinite(curve.values[e])) value = curve.values[e];
  }
  return value;
}

// Indices of the finite evaluations with first < iteration <= last.
std::vector<std::size_t> evaluations_in(const CurveView& curve, std::int64_t first,
                                        std::int64_t last) {
  std::vector<std::size_t> out;
  for (std::size_t e = 0; e < curve.iterations.size(); ++e) {
    if (curve.iterations[e] > first && curve.iterations[e] <= last &&
        std::isfinite(curve.values[e])) {
      out.push_back(e);
    }
  }
  return out;
}

std::int64_t block_start(const CurveView& curve, std::size_t block) {
  return block == 0 ? 0 : curve.block_ends[block - 1];
}

}  // namespace

double average_accuracy(const AccuracyMatrix& r) {
  const std::size_t tasks = check_square(r);
  double sum = 0.0;
  for (std::size_t j = 0; j < tasks; ++j) sum += r[tasks - 1][j];
  return sum / static_cast<double>(tasks);
}

double backward_transfer(const AccuracyMatrix& r) {
  const std::size_t tasks = check_square(r);
  if (tasks < 2) return kNaN;
  double sum = 0.0;
  for (std::size_t j = 0; j + 1 < tasks; ++j) sum += r[tasks - 1][j] - r[j][j];
  return sum / static_cast<double>(tasks - 1);
}

double forward_transfer(const AccuracyMatrix& r, std::span<const double> initial) {
  const std::size_t tasks = check_square(r);
  if (initial.size() != tasks) {
    throw InvalidArgumentError(
        fmt::format("forward transfer needs one initial accuracy per task ({}), got {}", tasks,
                    initial.size()));
  }
  if (tasks < 2) return kNaN;
  double sum = 0.0;
  for (std::size_t j = 1; j < tasks; ++j) sum += r[j - 1][j] - initial[j];
  return sum / static_cast<double>(tasks - 1);
}

double average_forgetting(const AccuracyMatrix& r) {
  const std::size_t tasks = check_square(r);
  if (tasks < 2) return kNaN;
  double sum = 0.0;
  for (std::size_t j = 0; j + 1 < tasks; ++j) {
    double best = -std::numeric_limits<double>::infinity();
    for (std::size_t l = 0; l + 1 < tasks; ++l) best = std::max(best, r[l][j]);
    sum += best - r[tasks - 1][j];
  }
  return sum / static_cast<double>(tasks - 1);
}

double stability_gap(const CurveView& curve, std::size_t boundary) {
  check_curve(curve);
  check_boundary(curve, boundary);
  const double before = value_at_or_before(curve, curve.block_ends[boundary]);
  const auto next =
      evaluations_in(curve, curve.block_ends[boundary], curve.block_ends[boundary + 1]);
  if (!std::isfinite(before) || before == 0.0 || next.empty()) return kNaN;
  double lowest = std::numeric_limits<double>::infinity();
  for (const auto e : next) lowest = std::min(lowest, curve.values[e]);
  return (before - lowest) / before;
}

double average_stability_gap(const CurveView& curve) {
  check_curve(curve);
  double sum = 0.0;
  std::size_t count = 0;
  for (std::size_t k = 0; k + 1 < curve.block_ends.size(); ++k) {
    const double sg = stability_gap(curve, k);
    if (std::isfinite(sg)) {
      sum += sg;
      ++count;
    }
  }
  return count == 0 ? kNaN : sum / static_cast<double>(count);
}

double stability_gap_of_mean_curve(std::span<const CurveView> curves) {
  if (curves.empty()) return kNaN;
  const CurveView& first = curves.front();
  std::vector<double> mean(first.values.size(), 0.0);
  for (const CurveView& curve : curves) {
    check_curve(curve);
    if (!std::ranges::equal(curve.iterations, first.iterations) ||
        !std::ranges::equal(curve.block_ends, first.block_ends)) {
      throw InvalidArgumentError(
          "the curves to average were recorded under different schedules (iterations or block "
          "ends differ)");
    }
    for (std::size_t e = 0; e < mean.size(); ++e) {
      mean[e] += curve.values[e] / static_cast<double>(curves.size());
    }
  }
  return average_stability_gap({first.iterations, mean, first.block_ends});
}

GapShape gap_shape(const CurveView& curve, std::size_t boundary, double epsilon,
                   std::size_t window) {
  check_curve(curve);
  check_boundary(curve, boundary);
  if (window == 0) throw InvalidArgumentError("gap window must be at least 1 evaluation");
  if (!(epsilon >= 0.0)) {
    throw InvalidArgumentError(fmt::format("gap epsilon {} must be >= 0", epsilon));
  }
  const std::int64_t switch_at = curve.block_ends[boundary];
  const std::int64_t block_end = curve.block_ends[boundary + 1];
  const auto before = evaluations_in(curve, block_start(curve, boundary), switch_at);
  const auto after = evaluations_in(curve, switch_at, block_end);
  GapShape gap;
  if (before.empty() || after.empty()) {
    gap.baseline = gap.depth = gap.area = kNaN;
    return gap;
  }
  const std::size_t first = before.size() > window ? before.size() - window : 0;
  double sum = 0.0;
  for (std::size_t i = first; i < before.size(); ++i) sum += curve.values[before[i]];
  gap.baseline = sum / static_cast<double>(before.size() - first);

  std::size_t lowest = 0;
  for (std::size_t i = 0; i < after.size(); ++i) {
    const double a = curve.values[after[i]];
    gap.area += std::max(0.0, gap.baseline - a);
    if (a < curve.values[after[lowest]]) lowest = i;
  }
  gap.depth = gap.baseline - curve.values[after[lowest]];
  const double band = gap.baseline - epsilon;
  if (curve.values[after[lowest]] >= band) return gap;  // never left the band: recovery 0
  for (std::size_t i = lowest; i < after.size(); ++i) {
    const std::size_t from = i + 1 > window ? i + 1 - window : 0;
    double smoothed = 0.0;
    for (std::size_t m = from; m <= i; ++m) smoothed += curve.values[after[m]];
    smoothed /= static_cast<double>(i + 1 - from);
    if (smoothed >= band) {
      gap.recovery = curve.iterations[after[i]] - switch_at;
      return gap;
    }
  }
  gap.recovery = block_end - switch_at;
  gap.censored = true;
  return gap;
}

double min_accuracy(std::span<const std::vector<double>> curves,
                    std::span<const std::int64_t> iterations,
                    std::span<const std::int64_t> block_ends, std::size_t now,
                    std::size_t current_task) {
  if (current_task >= curves.size() || current_task >= block_ends.size()) {
    throw InvalidArgumentError(fmt::format("current task {} out of range: {} tasks", current_task,
                                           std::min(curves.size(), block_ends.size())));
  }
  if (now >= iterations.size()) {
    throw InvalidArgumentError(
        fmt::format("evaluation index {} out of range: {} evaluations", now, iterations.size()));
  }
  if (current_task == 0) return kNaN;
  double sum = 0.0;
  std::size_t count = 0;
  for (std::size_t j = 0; j < current_task; ++j) {
    if (curves[j].size() != iterations.size()) {
      throw InvalidArgumentError(fmt::format("curve of task {} has {} values for {} evaluations", j,
                                             curves[j].size(), iterations.size()));
    }
    double lowest = std::numeric_limits<double>::infinity();
    for (std::size_t e = 0; e <= now; ++e) {
      if (iterations[e] > block_ends[j] && std::isfinite(curves[j][e])) {
        lowest = std::min(lowest, curves[j][e]);
      }
    }
    if (std::isfinite(lowest)) {
      sum += lowest;
      ++count;
    }
  }
  return count == 0 ? kNaN : sum / static_cast<double>(count);
}

double worst_case_accuracy(std::span<const std::vector<double>> curves,
                           std::span<const std::int64_t> iterations,
                           std::span<const std::int64_t> block_ends, std::size_t now,
                           std::size_t current_task) {
  const double min_acc = min_accuracy(curves, iterations, block_ends, now, current_task);
  const double current = curves[current_task][now];
  if (current_task == 0) return current;
  const double k = static_cast<double>(current_task + 1);
  return current / k + (1.0 - 1.0 / k) * min_acc;
}

MeanSd mean_sd(std::span<const double> values) {
  MeanSd out;
  double sum = 0.0;
  for (const double v : values) {
    if (std::isfinite(v)) {
      sum += v;
      ++out.count;
    }
  }
  if (out.count == 0) return {kNaN, kNaN, 0};
  out.mean = sum / static_cast<double>(out.count);
  if (out.count < 2) {
    out.sd = kNaN;
    return out;
  }
  double squares = 0.0;
  for (const double v : values) {
    if (std::isfinite(v)) squares += (v - out.mean) * (v - out.mean);
  }
  out.sd = std::sqrt(squares / static_cast<double>(out.count - 1));
  return out;
}

}  // namespace locus::bench
