#pragma once
// The regularization methods of a supervised run, together: EWC (ewc.hpp), MAS (mas.hpp), SI
// (synaptic_intelligence.hpp) and LwF (lwf.hpp), each on when its weight is > 0, any of them at
// once. The learner calls begin_task at every task's start, adds the distillation to its loss's
// gradient, and brackets step() with before_step and after_step.

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "bench/harness/methods/ewc.hpp"
#include "bench/harness/methods/lwf.hpp"
#include "bench/harness/methods/mas.hpp"
#include "bench/harness/methods/synaptic_intelligence.hpp"

namespace locus::bench {

struct RegularizerConfig {
  EwcConfig ewc;
  std::int64_t ewc_batches = 0;  // a finished task's minibatches for its Fisher (0: one epoch)
  MasConfig mas;
  std::int64_t mas_batches = 0;  // for its importance (0: one epoch)
  SiConfig si;
  LwfConfig lwf;
  bool any() const { return ewc.lambda > 0 || mas.lambda > 0 || si.c > 0 || lwf.alpha > 0; }
  void validate() const;
};

class Regularizers {
 public:
  // Up to `max_batches` minibatches of a finished task's training data (0: one epoch).
  using TaskBatches = std::function<std::vector<Minibatch>(std::int64_t task, std::int64_t max)>;

  explicit Regularizers(const RegularizerConfig& config);

  // At the start of `task`: consolidates the task before it (EWC, MAS, SI) and makes the network
  // LwF's teacher on the output units `seen_units` (those of the classes trained so far).
  void begin_task(neuromod::Network& network, std::int64_t task, const TaskBatches& batches,
                  std::vector<std::size_t> seen_units);
  // LwF: adds the distillation's gradient for the minibatch's first `rows` rows to `gradient`;
  // returns its weighted loss (0 without LwF).
  double add_distillation(const neuromod::Matrix& inputs, const neuromod::Matrix& logits,
                          std::int64_t rows, neuromod::Matrix& gradient);
  // After backward(): SI records the loss's gradient, then the penalties add theirs.
  void before_step(neuromod::Network& network);
  // After step(): SI adds the step to its path integral.
  void after_step(const neuromod::Network& network);

 private:
  RegularizerConfig config_;
  std::optional<Ewc> ewc_;
  std::optional<Mas> mas_;
  std::optional<SynapticIntelligence> si_;
  std::optional<LearningWithoutForgetting> lwf_;
};

}  // namespace locus::bench
