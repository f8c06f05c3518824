#pragma once
// What the continual-learning methods' hand checks share: a model small enough to check by hand
// (one input, two classes, no hidden layer, no biases: the only trainable weights are the
// readout's two, w0 and w1, with logits (w0 x, w1 x)) and minibatches of scalar inputs.

#include <memory>
#include <string>
#include <vector>

#include "bench/harness/methods/quadratic_penalty.hpp"
#include "neuromod/network.hpp"
#include "neuromod/spec.hpp"

namespace locus::testing::two_weight {

// The model, trained (when a test steps it) by plain SGD at `learning_rate`.
inline std::unique_ptr<neuromod::Network> model(float learning_rate = 0.1f) {
  auto network = neuromod::make_network(neuromod::baseline_mlp(1, {}, 2, 7, /*with_biases=*/false));
  network->set_gradient_mode(neuromod::GradientMode::kAllTrainable);
  neuromod::OptimizerConfig sgd;
  sgd.kind = neuromod::OptimizerKind::kSgd;
  sgd.learning_rate = learning_rate;
  network->set_optimizer(sgd);
  return network;
}

// The name of its one trainable weight tensor.
inline std::string weight_name(const neuromod::Network& network) {
  for (const auto& info : network.parameters()) {
    if (info.trainable && info.context == neuromod::kSharedContext) return info.name;
  }
  return {};
}

inline bench::Minibatch minibatch(const std::vector<float>& xs,
                                  const std::vector<std::int32_t>& labels) {
  bench::Minibatch batch;
  batch.inputs.resize({xs.size(), 1});
  for (std::size_t i = 0; i < xs.size(); ++i) batch.inputs(i, 0) = xs[i];
  batch.labels = labels;
  return batch;
}

}  // namespace locus::testing::two_weight
