#pragma once
// Continual evaluation: a Learner trains through a sequence of tasks, a fixed number of iterations
// per task, and every `eval_every` iterations the harness evaluates every task seen so far on its
// fixed held-out set. At t = 0 and at the end of every block it evaluates every task, seen or not,
// which gives the accuracy matrix R and the initial accuracies b (metrics.hpp).
//
// The Learner interface is what the harness needs from any learner: supervised ones (this folder's
// SupervisedLearner) and reinforcement-learning agents alike. An RL agent plugs in by mapping
// train_step() to one update (a rollout and an optimizer step) and evaluate() to its success rate
// or normalized return over fixed evaluation episodes (seeded from the task, never from the
// agent's own random stream).

#include <cstdint>
#include <optional>
#include <vector>

#include "bench/harness/metrics.hpp"

namespace locus::bench {

struct TrainStep {
  double loss = 0.0;
  std::int64_t samples = 0;  // examples (or environment steps) this iteration consumed
};

class Learner {
 public:
  virtual ~Learner() = default;
  virtual std::int64_t num_tasks() const = 0;
  // Called before the first iteration of each task, in order 0, 1, ..., num_tasks() - 1.
  virtual void begin_task(std::int64_t task) = 0;
  // One training iteration on the current task (one optimizer step).
  virtual TrainStep train_step() = 0;
  // The score of `task` in [0, 1] (accuracy, success rate or normalized return) on its fixed
  // held-out set. Must not change anything that a later train_step() reads: parameters, optimizer
  // state, gains, data order or random streams (the tests check this).
  virtual double evaluate(std::int64_t task) = 0;
  // Learned parameters in total (trainable shared ones plus every context's).
  virtual std::int64_t parameter_count() const = 0;
  // Bytes of state kept per task beyond the shared network: per-task context parameters and, in
  // replay methods, the stored examples of the task.
  virtual std::int64_t bytes_per_task() const = 0;
  // The current weight gain (NGM or a fixed-gain control), if the learner has one.
  virtual std::optional<double> gain() const { return std::nullopt; }
};

struct Schedule {
  std::int64_t iterations_per_task = 100;
  std::int64_t eval_every = 10;  // also evaluated at t = 0 and at the end of every block
  // Between the ends of blocks, evaluate only the first task (the stability gap's curve): the
  // cheap path, for evaluating every iteration as arXiv 2507.14056 does.
  bool only_first_task = false;
  void validate() const;
};

// Everything a continual run recorded.
struct ContinualRecord {
  std::int64_t num_tasks = 0;
  std::vector<std::int64_t> block_ends;     // (tasks) iteration at which block k ends
  std::vector<std::int64_t> iterations;     // (evals)
  std::vector<std::vector<double>> curves;  // (tasks, evals), NaN before the task's block starts
  std::vector<double> gains;                // (evals) the learner's gain, NaN without one
  std::vector<double> losses;               // (evals) mean training loss since the last eval
  AccuracyMatrix matrix;                    // R (tasks, tasks)
  std::vector<double> initial;              // b (tasks)
  std::int64_t train_steps = 0;
  std::int64_t train_samples = 0;
  double train_seconds = 0.0;
  double eval_seconds = 0.0;
  double mean_gain = 0.0;  // over training steps (NaN without a gain)
  std::int64_t parameter_count = 0;
  std::int64_t bytes_per_task = 0;
};

ContinualRecord run_continual(Learner& learner, const Schedule& schedule);

// The metrics of docs/bench.md for one record. The stability gap, gap depth, recovery and area are
// taken on the first task's curve (as arXiv 2507.14056 does) and, as `*_previous`, on the curve
// of the task that just ended at each boundary.
struct RunMetrics {
  double acc = 0.0, bwt = 0.0, fwt = 0.0, forgetting = 0.0;
  std::vector<double> sg;  // (tasks - 1) per boundary, first task
  double avg_sg = 0.0;
  double avg_sg_previous = 0.0;
  double min_acc = 0.0, wc_acc = 0.0;
  double gap_depth = 0.0, gap_recovery = 0.0, gap_area = 0.0;  // means over boundaries
  std::int64_t gap_censored = 0;                               // boundaries never recovered
  double first_task_final = 0.0;                               // R[T-1][0]
  double mean_gain = 0.0;
  std::int64_t parameter_count = 0, bytes_per_task = 0;
  double wall_seconds = 0.0;      // training plus evaluation
  double steps_per_second = 0.0;  // training iterations per second of training time
};

RunMetrics compute_metrics(const ContinualRecord& record, double gap_epsilon = 0.02,
                           std::size_t gap_window = 5);

}  // namespace locus::bench
