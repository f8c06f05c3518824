#pragma once
// NGM: noradrenergic gain modulation (arXiv 2507.14056). The forward pass uses effective weights
// g * w (Network::set_weight_gain); the optimizer steps on w, so the weight gradient carries a
// factor g. After each optimizer step the gain follows
//     g <- gamma * g + (1 - gamma) * g0 + eta * H
// with H the batch-mean entropy of the softmax output of that step's forward pass. Read as two
// timescales: g0 * w is the slow weight, (g - g0) * w a fast weight that decays with gamma.
//
// What the paper leaves open is a parameter here: where the gain applies (every weighted layer, so
// a bias-free ReLU network's logits scale with g to the power of its depth; the output layer only,
// as the paper does for its ResNets; or a chosen set of layers), and whether H is in nats or bits.
// It works with every optimizer because it only sets the network's weight gains.
//
//   NgmGain ngm({.eta = 0.5f});
//   ngm.attach(net);                      // sets the gain g0 on the chosen layers
//   ... forward, loss, backward, net.step();
//   ngm.update(net, outputs[0]);          // H from the step's logits; new g applied to net

#include <cstddef>
#include <vector>

#include "neuromod/losses.hpp"
#include "neuromod/network.hpp"

namespace locus::neuromod {

enum class GainPlacement {
  kEveryLayer,      // every layer and every head
  kOutputOnly,      // the heads only
  kSelectedLayers,  // the weight-gain slots listed in `layers` (layers 0..L-1, heads L..)
};
std::string_view to_string(GainPlacement placement);

// Where a scalar weight gain goes, and applying it to a network.
struct GainTarget {
  GainPlacement placement = GainPlacement::kEveryLayer;
  std::vector<std::size_t> layers;  // kSelectedLayers only
  // The weight-gain slots of `network` this target covers; throws InvalidArgumentError for a slot
  // out of range or an empty selection.
  std::vector<std::size_t> slots(const Network& network) const;
};
void apply_weight_gain(Network& network, const GainTarget& target, float gain);

struct NgmConfig {
  float gamma = 0.9f;
  float g0 = 1.0f;
  float eta = 0.4f;  // the paper: 0.5 Rotated-MNIST, 0.4 Split-MNIST, 0.2 Split-CIFAR-10
  GainTarget target;
  EntropyUnit entropy_unit = EntropyUnit::kNats;
  bool record_trace = true;
  void validate() const;
};

struct NgmTracePoint {
  std::size_t step;  // 1-based update count
  double entropy;    // H used by the update
  float gain;        // g after the update
};

class NgmGain {
 public:
  explicit NgmGain(const NgmConfig& config = {});

  // Sets g = g0 (and clears the trace), then applies it to `network`'s target layers.
  void attach(Network& network);
  // The update rule from a given entropy; returns the new g (does not touch any network).
  float update_from_entropy(double entropy);
  // H = mean_softmax_entropy(logits, unit), the update, and the new g applied to `network`.
  float update(Network& network, const Matrix& logits);

  float gain() const { return gain_; }
  const NgmConfig& config() const { return config_; }
  const std::vector<NgmTracePoint>& trace() const { return trace_; }
  void clear_trace() { trace_.clear(); }

 private:
  NgmConfig config_;
  float gain_;
  std::size_t steps_ = 0;
  std::vector<NgmTracePoint> trace_;
};

}  // namespace locus::neuromod
