#pragma once
// Memory aware synapses (Aljundi et al. 2018, "Memory Aware Synapses: Learning what (not) to
// forget"): a weight's importance is how much the network's output moves with it, measured
// without labels. After a task, Omega_i = the mean over minibatches of |d/dtheta_i of the
// minibatch mean of ||f(x)||_2^2| (per minibatch, as Avalanche estimates it); later steps add
//   lambda x sum_i Omega_i (theta_i - theta*_i)^2
// with one running importance, Omega <- alpha Omega + (1 - alpha) Omega_new after the first task
// (Avalanche's rule), anchored at the latest task's weights (quadratic_penalty.hpp).

#include <span>

#include "bench/harness/methods/quadratic_penalty.hpp"

namespace locus::bench {

struct MasConfig {
  double lambda = 0.0;  // 0: off
  double alpha = 0.5;   // the share of the earlier importance
  void validate() const;
};

class Mas {
 public:
  explicit Mas(MasConfig config);

  // Adds the task just trained: its importance over `batches` (their labels unused) and the
  // network's weights now. Leaves the network's parameters as they were (gradients zeroed).
  void consolidate(neuromod::Network& network, std::span<const Minibatch> batches);
  void add_penalty_gradient(neuromod::Network& network) const { penalty_.add_gradient(network); }
  double penalty(const neuromod::Network& network) const { return penalty_.value(network); }
  const std::vector<PenaltyTerm>& terms() const { return penalty_.terms(); }

 private:
  QuadraticPenalty penalty_;
};

}  // namespace locus::bench
