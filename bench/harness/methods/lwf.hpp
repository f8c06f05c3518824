#pragma once
// Learning without forgetting (Li and Hoiem 2016): at the start of every task after the first,
// the network as it is then becomes the teacher; while the task trains, its outputs on the new
// task's inputs are distilled into the network's beside the task's own loss:
//   alpha x KL(softmax(teacher / T) || softmax(student / T)), averaged over the rows
// (Avalanche's distillation loss: KL with reduction batchmean, no T^2 factor), on the output
// units of the classes seen before the task (the whole head when every task shares its units,
// task- and domain-incremental; the earlier classes' units, class-incremental).

#include <cstdint>
#include <memory>
#include <vector>

#include "neuromod/network.hpp"

namespace locus::bench {

struct LwfConfig {
  double alpha = 0.0;  // 0: off
  double temperature = 2.0;
  void validate() const;
};

class LearningWithoutForgetting {
 public:
  explicit LearningWithoutForgetting(LwfConfig config);

  // The network now becomes the teacher, distilled on output units `units`.
  void begin_task(const neuromod::Network& network, std::vector<std::size_t> units);
  // Adds alpha x the distillation loss of `logits`' first `rows` rows (whose inputs are `inputs`'
  // first `rows`) to `gradient` (same shape as logits) and returns it (before alpha); 0 before
  // the second task.
  double add_distillation(const neuromod::Matrix& inputs, const neuromod::Matrix& logits,
                          std::int64_t rows, neuromod::Matrix& gradient);
  bool active() const { return teacher_ != nullptr && !units_.empty(); }

 private:
  LwfConfig config_;
  std::unique_ptr<neuromod::Network> teacher_;
  std::vector<std::size_t> units_;
  neuromod::Matrix rows_;  // the current rows' inputs, when the minibatch has replayed ones
};

// The distillation loss alone, written for a hand check: mean over rows of
// KL(softmax(teacher/T) || softmax(student/T)) on `units`, and its gradient with respect to the
// student's logits (zero on the other units) added, times alpha, to `gradient`.
double distillation_loss(const neuromod::Matrix& student, const neuromod::Matrix& teacher,
                         std::int64_t rows, const std::vector<std::size_t>& units,
                         double temperature, double alpha, neuromod::Matrix& gradient);

}  // namespace locus::bench
