#pragma once
// Named configurations from the papers locus implements: the network, the optimizer and the
// training schedule, so an agent, a sweep or the CLI can ask for them by name.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "neuromod/network.hpp"
#include "neuromod/ngm.hpp"
#include "neuromod/optimizer.hpp"

namespace locus::neuromod {

struct TrainingPreset {
  std::string name;
  std::string reference;  // where the configuration comes from
  NetworkSpec network;
  OptimizerConfig optimizer;
  GradientMode gradient_mode = GradientMode::kContextOnly;
  std::size_t batch_size = 128;
  std::size_t epochs_per_task = 1;
  bool uses_ngm = false;
  NgmConfig ngm;  // when uses_ngm
};

// "hong_pavlic_2022" (arXiv 2204.04297, "Learning to Modulate Random Weights"): 784 -> 7840 sparse
// binary projection with exactly 7 inputs per unit, centered ReLU h = ReLU(m - mean(m)),
// per-context gain vector c (7840, Xavier-normal init) applied as c * h, a fixed random readout W
// (10 x 7840) and a per-context scalar gain s: logits = s * W (c * h). RMSprop lr 1e-2, batch 128,
// 3 epochs per task, context picked by task id.
TrainingPreset hong_pavlic_2022(std::uint64_t seed = 0);

// "ngm_mlp_2025" (arXiv 2507.14056, NGM on MNIST): MLP 784-400-400-10, ReLU, no biases, every
// weight trainable, one context; batch 128; SGD lr 0.01 with the NGM gain on every layer
// (gamma 0.9, g0 1, eta 0.4: the paper's Split-MNIST value).
TrainingPreset ngm_mlp_2025(std::uint64_t seed = 0);

std::vector<std::string> preset_names();
// By name (also "arXiv:2204.04297" and "arXiv:2507.14056"); throws InvalidArgumentError listing
// the names.
TrainingPreset find_preset(std::string_view name, std::uint64_t seed = 0);

}  // namespace locus::neuromod
