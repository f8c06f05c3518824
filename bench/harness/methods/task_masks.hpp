#pragma once
// Context-dependent gating (XdG; Masse, Grant & Freedman 2018, "Alleviating catastrophic
// forgetting using context-dependent gating and synaptic stabilization"): each task gates a fixed
// random subset of every hidden layer's units off, keeping the fraction `keep` (0.2 in the paper,
// which gates 80 % off), so the tasks train mostly different paths through shared, trainable
// weights. The task's id picks its mask, in training and at test.
//
// Through the Network API it needs nothing new: the ordinary MLP gets a per-context gain on each
// hidden layer, applied before the ReLU (ones: the plain MLP), one context per task; each
// context's gains are written once to its task's 0/1 mask and the context is frozen, so step()
// never changes them (a frozen context is skipped by step(); the shared weights, which belong to
// no context, still learn in GradientMode::kAllTrainable). A gated unit's pre-activation is then
// 0, its ReLU output 0, so it adds nothing to the next layer and its incoming weights get no
// gradient from the task.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "neuromod/network.hpp"

namespace locus::bench {

struct XdgConfig {
  double keep = 0.0;  // fraction of each hidden layer's units a task keeps (0: off)
  bool enabled() const { return keep > 0.0; }
  void validate() const;
};

// The number of units a mask keeps on a layer of `units`: keep x units rounded, at least one.
std::size_t kept_units(std::size_t units, double keep);
// Task `task`'s mask on hidden layer `layer` (`units` wide): exactly kept_units() ones at places
// drawn from (seed, task, layer) alone, zeros elsewhere.
std::vector<float> xdg_mask(std::uint64_t seed, std::int64_t task, std::size_t layer,
                            std::size_t units, double keep);
// Gives every hidden layer of `spec` a per-context gain before its activation (ones), the place
// the masks go.
void add_gating_gains(neuromod::NetworkSpec& spec);
// Writes the masks of task `context` (XdG opens one context per task) into that context's gains
// and freezes it.
void gate_context(neuromod::Network& network, neuromod::ContextId context, std::uint64_t seed,
                  double keep);

}  // namespace locus::bench
