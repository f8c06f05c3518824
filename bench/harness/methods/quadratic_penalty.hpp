#pragma once
// The penalty that EWC, SI and MAS share: each keeps, per trainable shared weight, an importance
// Omega_i and an anchor theta*_i, and adds to the loss
//   coefficient x sum_k sum_i Omega_k,i (theta_i - theta*_k,i)^2
// whose gradient, 2 x coefficient x sum_k Omega_k (theta - theta*_k), joins the loss's between
// backward() and step() (Network::add_to_gradient), so every optimizer and backend applies it.
// The methods differ only in how they estimate Omega and in how a new task's term joins the old:
//   separate  one term per task (EWC)
//   running   one term: Omega <- decay x Omega + new_weight x Omega_new, theta* <- the latest
//             weights (online EWC: gamma and 1; SI: 1 and 1; MAS: alpha and 1 - alpha); the first
//             task's term is kept as it is.

#include <cstdint>
#include <string>
#include <vector>

#include "neuromod/network.hpp"

namespace locus::bench {

// One minibatch of a task, as the learner feeds it to the network.
struct Minibatch {
  neuromod::Matrix inputs;                    // (rows, input_size)
  std::vector<std::int32_t> labels;           // (rows)
  std::vector<neuromod::ContextId> contexts;  // (rows), or empty for the selected context
};

// The weights a quadratic penalty protects: trainable and shared by every task. Throws
// InvalidArgumentError naming `method` when the network has none (fixed random weights).
std::vector<neuromod::ParameterInfo> protected_weights(const neuromod::Network& network,
                                                       std::string_view method);

struct PenaltyTensor {
  std::string name;
  std::vector<float> importance;
  std::vector<float> anchor;
};
using PenaltyTerm = std::vector<PenaltyTensor>;

// A term of `weights` with zero importance, anchored at the network's weights now.
PenaltyTerm anchored_term(const neuromod::Network& network,
                          const std::vector<neuromod::ParameterInfo>& weights);

class QuadraticPenalty {
 public:
  struct Combination {
    bool running = false;
    double decay = 1.0;
    double new_weight = 1.0;
  };
  // `setting` (with its value) is what a user lowers when the weights diverge, named in the error.
  QuadraticPenalty(double coefficient, Combination combination, std::string setting,
                   double setting_value);

  void add(PenaltyTerm term);
  // Adds the penalty's gradient to the network's; throws InvalidArgumentError when it is not
  // finite (the weights diverged).
  void add_gradient(neuromod::Network& network) const;
  // The penalty at the network's weights now.
  double value(const neuromod::Network& network) const;
  const std::vector<PenaltyTerm>& terms() const { return terms_; }

 private:
  double coefficient_;
  Combination combination_;
  std::string setting_;
  double setting_value_;
  std::vector<PenaltyTerm> terms_;
};

}  // namespace locus::bench
