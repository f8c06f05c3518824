#pragma once
// Synaptic intelligence (Zenke, Poole and Ganguli 2017, "Continual Learning Through Synaptic
// Intelligence"): a weight's importance is its share of the drop in the loss along the training
// path. Every step adds omega_i += -g_i x delta_i, with g the gradient of the task's loss (before
// any penalty joins it) and delta the step's change of the weight; at a task's end
//   Omega_i += omega_i / (Delta_i^2 + xi),   Delta_i = the task's total change of the weight,
// omega restarts, and later steps add c x sum_i Omega_i (theta_i - theta*_i)^2 with theta* the
// weights at the task's end (quadratic_penalty.hpp, one running term).
//
// The learner calls, per task: begin_task, then per step record_gradient (after backward(),
// before the penalty's gradient and step()) and record_step (after step()), then end_task.

#include <vector>

#include "bench/harness/methods/quadratic_penalty.hpp"

namespace locus::bench {

struct SiConfig {
  double c = 0.0;   // the penalty's weight (si_lambda; 0: off)
  double xi = 0.1;  // damping of weights that barely moved
  void validate() const;
};

class SynapticIntelligence {
 public:
  explicit SynapticIntelligence(SiConfig config);

  void begin_task(const neuromod::Network& network);
  void record_gradient(const neuromod::Network& network);
  void record_step(const neuromod::Network& network);
  void end_task(const neuromod::Network& network);

  void add_penalty_gradient(neuromod::Network& network) const { penalty_.add_gradient(network); }
  double penalty(const neuromod::Network& network) const { return penalty_.value(network); }
  const std::vector<PenaltyTerm>& terms() const { return penalty_.terms(); }
  // The path integral so far in this task, per protected tensor.
  const std::vector<std::vector<float>>& path_integral() const { return omega_; }

 private:
  SiConfig config_;
  QuadraticPenalty penalty_;
  std::vector<neuromod::ParameterInfo> weights_;
  std::vector<std::vector<float>> task_start_;   // the weights when the task began
  std::vector<std::vector<float>> before_step_;  // the weights before the step recorded
  std::vector<std::vector<float>> gradient_;     // the task loss's gradient of that step
  std::vector<std::vector<float>> omega_;
};

}  // namespace locus::bench
