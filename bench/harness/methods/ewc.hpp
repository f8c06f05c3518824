#pragma once
// Elastic weight consolidation (Kirkpatrick et al. 2017, "Overcoming catastrophic forgetting in
// neural networks") and its online form (Schwarz et al. 2018, "Progress & Compress"), on the
// trainable shared weights of any Network.
//
// After a task, its importance of each weight is the diagonal of the empirical Fisher
// information, estimated as Avalanche does: F_i = the mean over the task's minibatches of the
// squared minibatch gradient (dL/dtheta_i)^2 of the cross-entropy. The weights then, theta*, are
// kept with it. Later steps add the penalty
//   separate  lambda/2 sum_k sum_i F_k,i (theta_i - theta*_k,i)^2    one term per earlier task
//   online    lambda/2 sum_i F_i (theta_i - theta*_i)^2,             F <- gamma F + F_new,
//                                                                    theta* <- the latest weights
// a QuadraticPenalty (quadratic_penalty.hpp) of coefficient lambda/2.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "bench/harness/methods/quadratic_penalty.hpp"
#include "neuromod/network.hpp"

namespace locus::bench {

struct EwcConfig {
  double lambda = 0.0;  // 0: off
  bool online = false;
  double gamma = 1.0;  // online: the decay of the earlier importance
  void validate() const;
};

class Ewc {
 public:
  explicit Ewc(EwcConfig config);

  // Adds the task just trained: its Fisher diagonal over `batches` and the network's weights now.
  // Leaves the network's parameters and optimizer state as they were (its gradients are zeroed).
  void consolidate(neuromod::Network& network, std::span<const Minibatch> batches);
  // Adds the penalty's gradient to the network's (after backward(), before step()).
  void add_penalty_gradient(neuromod::Network& network) const { penalty_.add_gradient(network); }
  // The penalty at the network's weights now.
  double penalty(const neuromod::Network& network) const { return penalty_.value(network); }
  // The consolidated terms, each tensor's importance being its Fisher diagonal.
  const std::vector<PenaltyTerm>& terms() const { return penalty_.terms(); }

 private:
  EwcConfig config_;
  QuadraticPenalty penalty_;  // separate: one term per task; online: one running term
};

}  // namespace locus::bench
