#pragma once
// Continual-learning metrics, exactly as docs/bench.md defines them (with their sources).
//
// Notation: T tasks trained one after another in blocks; block k covers the training iterations
// (end[k-1], end[k]] with end[-1] = 0 (iteration t = after t training steps, t = 0 before any).
// R[i][j] is the accuracy on task j after finishing block i, b[j] the accuracy on task j before any
// training. A curve is a list of evaluations (iteration, value) in increasing iteration order; a
// value may be NaN where the task was not evaluated.
//
//   ACC        mean_j R[T-1][j]
//   BWT        1/(T-1) sum_{j<T-1} (R[T-1][j] - R[j][j])
//   FWT        1/(T-1) sum_{j>=1} (R[j-1][j] - b[j])
//   forgetting 1/(T-1) sum_{j<T-1} (max_{l<T-1} R[l][j] - R[T-1][j])       (Chaudhry et al.)
//   SG_k       (A(end[k]) - min_{t in block k+1} A(t)) / A(end[k])   (arXiv 2507.14056)
//   min-ACC    mean over earlier tasks j of min_{t > end[j]} A_j(t), up to now (De Lange 2023)
//   WC-ACC     (1/k) A_k(now) + (1 - 1/k) min-ACC, k the 1-based index of the current task
//   gap depth  baseline - min_{block k+1} A, baseline = mean of the last 5 evaluations of block k
//   recovery   iterations from the switch until the 5-point smoothed curve is back within epsilon
//              of the baseline (censored at the end of block k+1)
//   gap area   sum over the evaluations of block k+1 of max(0, baseline - A)
// With one task, BWT, FWT, forgetting and min-ACC are undefined and returned as NaN; ACC and WC-ACC
// are the task's accuracy. Means over boundaries skip NaN terms (an SG_k with A(end[k]) = 0).

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace locus::bench {

using AccuracyMatrix = std::vector<std::vector<double>>;  // (tasks, tasks), R[i][j]

double average_accuracy(const AccuracyMatrix& r);
double backward_transfer(const AccuracyMatrix& r);
double forward_transfer(const AccuracyMatrix& r, std::span<const double> initial);
double average_forgetting(const AccuracyMatrix& r);

// One curve and the block ends it was recorded under (see the file comment).
struct CurveView {
  std::span<const std::int64_t> iterations;  // (evals), increasing
  std::span<const double> values;            // (evals)
  std::span<const std::int64_t> block_ends;  // (tasks), increasing
};

// SG_k for boundary k (between block k and block k+1), k in [0, tasks - 1).
double stability_gap(const CurveView& curve, std::size_t boundary);
// Mean of SG_k over every boundary (NaN terms skipped; NaN if none is finite).
double average_stability_gap(const CurveView& curve);
// avg-SG of the mean of several curves (the seeds of one method, recorded under the same
// iterations and block ends), as arXiv 2507.14056 computes it: averaging first smooths dips that
// the seeds take at different moments, so this is often well under the mean of the curves' own
// avg-SG (not always: SG is a ratio, and a boundary where one seed's curve is at 0 counts here).
// Throws InvalidArgumentError when the curves were not recorded under one schedule.
double stability_gap_of_mean_curve(std::span<const CurveView> curves);

struct GapShape {
  double baseline = 0.0;      // mean of the last `window` evaluations of block k
  double depth = 0.0;         // baseline - minimum during block k+1
  std::int64_t recovery = 0;  // iterations from the switch (end[k]) until recovered
  bool censored = false;      // never recovered: recovery = length of block k+1
  double area = 0.0;          // sum of max(0, baseline - A) over block k+1's evaluations
};
// The gap after boundary k. Recovery is 0 when the curve never falls below baseline - epsilon;
// otherwise it is the first evaluation at or after the (first) minimum where the trailing mean of
// up to `window` evaluations of block k+1 is at least baseline - epsilon.
GapShape gap_shape(const CurveView& curve, std::size_t boundary, double epsilon,
                   std::size_t window = 5);

// min-ACC and WC-ACC at evaluation `now` (an index into the curves' evaluations), with
// `current_task` the task being trained then. curves[j] are the per-task curves on one shared
// evaluation grid.
double min_accuracy(std::span<const std::vector<double>> curves,
                    std::span<const std::int64_t> iterations,
                    std::span<const std::int64_t> block_ends, std::size_t now,
                    std::size_t current_task);
double worst_case_accuracy(std::span<const std::vector<double>> curves,
                           std::span<const std::int64_t> iterations,
                           std::span<const std::int64_t> block_ends, std::size_t now,
                           std::size_t current_task);

// Mean and sample standard deviation (n - 1) of the finite values; NaN if there are none (sd NaN
// for a single value).
struct MeanSd {
  double mean = 0.0;
  double sd = 0.0;
  std::size_t count = 0;
};
MeanSd mean_sd(std::span<const double> values);

}  // namespace locus::bench
