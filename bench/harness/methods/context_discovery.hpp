#pragma once
// Which context a network with one context per task trains, when nobody tells it that the task
// changed (`context_at_train`):
//   given      the learner is told each task boundary and opens the task's own context there
//   on-change  the learner finds the boundaries itself, as the RL agent does
//              (agents/agent.hpp, ContextPolicy::kOnChange): each training minibatch's loss under
//              the selected context is the surprise a noradrenaline signal observes
//              (neuromod/noradrenaline.hpp, source kSurprise); when its z-score flags a change,
//              the stored context with the lowest loss on that minibatch is reused if that loss
//              is below reuse_ratio times the selected context's, else a new context is opened
//              (or, with max_contexts open, the best one is reused anyway).
// The minibatch that flags the change already trains the context chosen for it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "neuromod/network.hpp"
#include "neuromod/noradrenaline.hpp"

namespace locus::bench {

enum class ContextAtTrain { kGiven, kOnChange };
std::string_view context_at_train_name(ContextAtTrain rule);
// Throws InvalidArgumentError naming the allowed values.
ContextAtTrain context_at_train_from_name(std::string_view name);

struct ContextDiscoveryConfig {
  // The z-score of a minibatch's loss against the running statistics of the earlier ones that
  // flags a change, and the minibatches after a flag during which no other is raised.
  float change_threshold = 6.0f;
  std::size_t refractory = 50;
  // The rate of the running mean and variance the z-score is taken against (exact for the first
  // 1 / stats_rate losses): fast enough to forget the steep start of a task's learning curve.
  float stats_rate = 0.05f;
  float reuse_ratio = 0.5f;
  std::size_t max_contexts = 16;
  void validate() const;
};

struct ContextSwitch {
  std::int64_t step = 0;  // the 0-based training step whose minibatch flagged the change
  neuromod::ContextId from = 0;
  neuromod::ContextId to = 0;
  bool reused = false;  // a stored context, rather than a new one
  double z = 0.0;       // the loss's z-score that flagged it
};

class ContextDiscovery {
 public:
  explicit ContextDiscovery(const ContextDiscoveryConfig& config);

  // Observes `loss`, the loss of the minibatch (inputs, labels) under the network's selected
  // context at training step `step`. On a change flag it selects the context chosen as above and
  // returns true; the network's activations then hold another context's forward pass, so the
  // caller runs the minibatch's forward pass again before its backward pass.
  bool observe(neuromod::Network& network, const neuromod::Matrix& inputs,
               std::span<const std::int32_t> labels, double loss, std::int64_t step);

  const std::vector<ContextSwitch>& switches() const { return switches_; }

 private:
  ContextDiscoveryConfig config_;
  neuromod::NoradrenalineSignal signal_;
  std::vector<neuromod::ContextId> row_contexts_;
  std::vector<ContextSwitch> switches_;
};

// How the switches found the true task boundaries, at steps k x steps_per_task (k = 1..tasks-1):
// a boundary's delay is the steps from it to the first switch before the next boundary (none: not
// detected); every other switch is an extra one (a false alarm, or a second switch in a task).
struct BoundaryDetection {
  std::vector<std::optional<std::int64_t>> delays;  // one per boundary
  std::int64_t extra_switches = 0;
};
BoundaryDetection detect_boundaries(std::span<const ContextSwitch> switches,
                                    std::int64_t steps_per_task, std::int64_t tasks);

}  // namespace locus::bench
