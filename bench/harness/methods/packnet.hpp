#pragma once
// PackNet (Mallya & Lazebnik 2018, "PackNet: Adding Multiple Tasks to a Single Network by
// Iterative Pruning"), on the trainable shared weights of any Network (the ordinary MLP): each
// task trains the weights no earlier task owns; after `task_iterations - retrain_iterations` of
// its steps the fraction `prune_fraction` of them with the smallest magnitude (per tensor, as the
// paper prunes per layer) is set to zero, the rest become the task's, and the remaining
// `retrain_iterations` steps retrain only those. Later tasks never change a weight a task owns, and
// task j is evaluated with only the weights of tasks <= j (the others masked to zero), so a task
// keeps exactly the accuracy it ended with: no forgetting at all.
//
// The prune point is inside the task (as Avalanche's PackNetPlugin does it, after the training
// epochs and before the post-prune ones), so the accuracy measured at the task's end is already
// that of the pruned and retrained subnetwork. The learner knows no schedule, so the config carries
// the task's iterations; if a task ends before its prune point, it is pruned (without retraining)
// when the next one begins.
//
// Frozen weights must not move at all, whatever the optimizer: their gradient is cancelled before
// step() (so they also stay out of the gradient norm that clipping uses), and their values are put
// back after step(), which undoes what momentum, Adam's moments from an earlier task and weight
// decay would still do to them.
//
// Pruned weights are zero and free for the next task, which trains them from zero (as the paper
// does); in the shared 2-unit head of the task-incremental streams the readout is pruned like any
// layer (the paper has one head per task instead).

#include <cstdint>
#include <string>
#include <vector>

#include "neuromod/network.hpp"

namespace locus::bench {

struct PacknetConfig {
  double prune_fraction = 0.0;          // of each task's free weights, pruned after it (0: off)
  std::int64_t retrain_iterations = 0;  // steps after the prune, training the kept weights only
  std::int64_t task_iterations = 0;     // steps per task (0: unknown; prune at the next task)
  bool enabled() const { return prune_fraction > 0.0; }
  void validate() const;
};

class PackNet {
 public:
  // Who holds a weight: a task id (>= 0) once that task owns it, or one of these.
  static constexpr std::int32_t kFree = -1;    // trained by the current task, not decided yet
  static constexpr std::int32_t kPruned = -2;  // pruned from the current task: zero until it ends

  explicit PackNet(PacknetConfig config);

  // At the start of `task`: the task before it is pruned (if its steps ended early) and its
  // pruned weights are freed for this one.
  void begin_task(neuromod::Network& network, std::int64_t task);
  // After backward(), before step(): cancels the gradient of every frozen weight.
  void before_step(neuromod::Network& network) const;
  // After step(): puts the frozen weights back, and prunes at the task's prune point.
  void after_step(neuromod::Network& network);
  // Prunes the current task's free weights now (the learner calls it at the prune point).
  void prune(neuromod::Network& network);

  // Makes the network task `task`'s subnetwork for an evaluation: while a later task trains, only
  // the weights owned by tasks <= `task` stay, the others read zero. restore_after_evaluation puts
  // every weight back bit for bit, so evaluating never changes training.
  void show_task(neuromod::Network& network, std::int64_t task);
  void restore_after_evaluation(neuromod::Network& network);

  // Each tensor's owners, in the order of the network's trainable shared weights.
  struct TensorOwners {
    std::string name;
    std::vector<std::int32_t> owner;  // per weight: a task id, kFree or kPruned
    std::vector<float> held;          // the values the frozen weights are held at
  };
  const std::vector<TensorOwners>& tensors() const { return tensors_; }
  bool pruned() const { return pruned_; }

 private:
  bool frozen(std::int32_t owner) const {
    return owner == kPruned || (owner >= 0 && owner < task_);
  }
  bool anything_frozen() const { return task_ > 0 || pruned_; }
  void track(const neuromod::Network& network);
  void hold_current_values(const neuromod::Network& network);

  PacknetConfig config_;
  std::vector<TensorOwners> tensors_;
  std::vector<std::vector<float>> evaluation_backup_;
  std::int64_t task_ = -1;
  std::int64_t steps_in_task_ = 0;
  bool pruned_ = false;  // the current task has been pruned
};

// The indices of the `count` smallest |values[i]| among `candidates`, ties broken by the lower
// index (so the choice is deterministic).
std::vector<std::size_t> smallest_magnitudes(const std::vector<float>& values,
                                             std::vector<std::size_t> candidates,
                                             std::size_t count);

}  // namespace locus::bench
