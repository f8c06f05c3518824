#include "bench/harness/continual.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "bench/harness/errors.hpp"
#include "util/nan.hpp"

namespace locus::bench {

namespace {
using util::kNaN;
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}
}  // namespace

void Schedule::validate() const {
  if (iterations_per_task < 1) {
    throw InvalidArgumentError(
        fmt::format("iterations_per_task {} must be >= 1", iterations_per_task));
  }
  if (eval_every < 1)
    throw InvalidArgumentError(fmt::format("eval_every {} must be >= 1", eval_every));
}

ContinualRecord run_continual(Learner& learner, const Schedule& schedule) {
  schedule.validate();
  ContinualRecord record;
  const std::int64_t tasks = learner.num_tasks();
  if (tasks < 1) throw InvalidArgumentError(fmt::format("learner has {} tasks; needs >= 1", tasks));
  record.num_tasks = tasks;
  record.curves.assign(static_cast<std::size_t>(tasks), {});
  record.matrix.assign(static_cast<std::size_t>(tasks), std::vector<double>(tasks, kNaN));
  record.initial.assign(static_cast<std::size_t>(tasks), kNaN);
  for (std::int64_t k = 0; k < tasks; ++k) {
    record.block_ends.push_back((k + 1) * schedule.iterations_per_task);
  }

  double loss_sum = 0.0;
  std::int64_t loss_count = 0;
  double gain_sum = 0.0;
  std::int64_t gain_count = 0;
  // Evaluates the seen tasks (0..current) into the curves, or every task (the matrix rows need the
  // unseen ones too) into `row`.
  auto evaluate = [&](std::int64_t t, std::int64_t current, std::vector<double>* row) {
    const auto start = Clock::now();
    record.iterations.push_back(t);
    for (std::int64_t j = 0; j < tasks; ++j) {
      double value = kNaN;
      const bool wanted = row != nullptr || (j <= current && (j == 0 || !schedule.only_first_task));
      if (wanted) value = learner.evaluate(j);
      if (row != nullptr) (*row)[static_cast<std::size_t>(j)] = value;
      record.curves[static_cast<std::size_t>(j)].push_back(j <= current ? value : kNaN);
    }
    const auto gain = learner.gain();
    record.gains.push_back(gain ? *gain : kNaN);
    record.losses.push_back(loss_count > 0 ? loss_sum / static_cast<double>(loss_count) : kNaN);
    loss_sum = 0.0;
    loss_count = 0;
    record.eval_seconds += seconds_since(start);
  };

  evaluate(0, -1, &record.initial);
  std::int64_t t = 0;
  for (std::int64_t k = 0; k < tasks; ++k) {
    learner.begin_task(k);
    for (std::int64_t i = 0; i < schedule.iterations_per_task; ++i) {
      const auto start = Clock::now();
      const TrainStep step = learner.train_step();
      record.train_seconds += seconds_since(start);
      ++t;
      ++record.train_steps;
      record.train_samples += step.samples;
      loss_sum += step.loss;
      ++loss_count;
      if (const auto gain = learner.gain()) {
        gain_sum += *gain;
        ++gain_count;
      }
      const bool block_end = i + 1 == schedule.iterations_per_task;
      if (block_end) {
        evaluate(t, k, &record.matrix[static_cast<std::size_t>(k)]);
      } else if (t % schedule.eval_every == 0) {
        evaluate(t, k, nullptr);
      }
    }
  }
  record.mean_gain = gain_count > 0 ? gain_sum / static_cast<double>(gain_count) : kNaN;
  record.parameter_count = learner.parameter_count();
  record.bytes_per_task = learner.bytes_per_task();
  return record;
}

RunMetrics compute_metrics(const ContinualRecord& record, double gap_epsilon,
                           std::size_t gap_window) {
  RunMetrics m;
  const auto tasks = static_cast<std::size_t>(record.num_tasks);
  m.acc = average_accuracy(record.matrix);
  m.bwt = backward_transfer(record.matrix);
  m.fwt = forward_transfer(record.matrix, record.initial);
  m.forgetting = average_forgetting(record.matrix);
  m.first_task_final = record.matrix.back().front();

  const CurveView first{record.iterations, record.curves.front(), record.block_ends};
  m.avg_sg = average_stability_gap(first);
  double previous_sum = 0.0, depth_sum = 0.0, recovery_sum = 0.0, area_sum = 0.0;
  std::size_t previous_count = 0, gap_count = 0;
  for (std::size_t k = 0; k + 1 < tasks; ++k) {
    m.sg.push_back(stability_gap(first, k));
    const CurveView previous{record.iterations, record.curves[k], record.block_ends};
    const double sg_previous = stability_gap(previous, k);
    if (std::isfinite(sg_previous)) {
      previous_sum += sg_previous;
      ++previous_count;
    }
    const GapShape gap = gap_shape(first, k, gap_epsilon, gap_window);
    if (std::isfinite(gap.depth)) {
      depth_sum += gap.depth;
      recovery_sum += static_cast<double>(gap.recovery);
      area_sum += gap.area;
      m.gap_censored += gap.censored ? 1 : 0;
      ++gap_count;
    }
  }
  m.avg_sg_previous = previous_count ? previous_sum / static_cast<double>(previous_count) : kNaN;
  m.gap_depth = gap_count ? depth_sum / static_cast<double>(gap_count) : kNaN;
  m.gap_recovery = gap_count ? recovery_sum / static_cast<double>(gap_count) : kNaN;
  m.gap_area = gap_count ? area_sum / static_cast<double>(gap_count) : kNaN;

  const std::size_t now = record.iterations.size() - 1;
  m.min_acc = min_accuracy(record.curves, record.iterations, record.block_ends, now, tasks - 1);
  m.wc_acc =
      worst_case_accuracy(record.curves, record.iterations, record.block_ends, now, tasks - 1);
  m.mean_gain = record.mean_gain;
  m.parameter_count = record.parameter_count;
  m.bytes_per_task = record.bytes_per_task;
  m.wall_seconds = record.train_seconds + record.eval_seconds;
  m.steps_per_second = record.train_seconds > 0.0
                           ? static_cast<double>(record.train_steps) / record.train_seconds
                           : kNaN;
  return m;
}

}  // namespace locus::bench
