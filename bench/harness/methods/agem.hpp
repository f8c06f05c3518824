#pragma once
// Averaged gradient episodic memory (A-GEM; Chaudhry et al. 2019, "Efficient Lifelong Learning
// with A-GEM"): a step may not increase the loss on the replay memory to first order. With g the
// current minibatch's gradient and g_ref the gradient on a minibatch drawn from the memory, both
// over every trainable shared weight,
//   g <- g - (g . g_ref / g_ref . g_ref) g_ref   when g . g_ref < 0,   else g unchanged.
// The memory is the harness's replay memory (replay_memory.hpp); its examples are not mixed into
// the minibatch.

#include <cstdint>
#include <span>
#include <vector>

#include "bench/harness/methods/quadratic_penalty.hpp"

namespace locus::bench {

// The projection alone, in place; returns whether g was projected. g and g_ref the same length.
bool project_gradient(std::span<float> g, std::span<const float> g_ref);

class Agem {
 public:
  // The reference gradient, from the network's gradient of the memory's minibatch `batch` (the
  // network's gradients are zeroed afterwards).
  void compute_reference(neuromod::Network& network, const Minibatch& batch);
  // Projects the network's gradient (after backward(), before step()) against the reference,
  // when there is one; returns whether it was projected.
  bool project(neuromod::Network& network);
  std::int64_t projections() const { return projections_; }

 private:
  std::vector<neuromod::ParameterInfo> weights_;
  std::vector<float> reference_;  // every protected tensor's gradient, one after another
  std::vector<float> current_;
  std::int64_t projections_ = 0;
};

}  // namespace locus::bench
