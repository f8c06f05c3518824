#pragma once
// Dark experience replay (DER and DER++; Buzzega et al. 2020, "Dark Experience for General
// Continual Learning: a Strong, Simple Baseline"): the replay memory keeps, with each example, the
// network's logits when the example was stored, and a replay step matches them.
//
// One step's minibatch is laid out in three blocks of rows:
//   [0, current)                  the current task's examples: cross-entropy on their labels;
//   [current, current + matched)  replayed examples: alpha x the squared error between the
//                                 logits now and the stored ones (averaged over every element,
//                                 as the authors' code does);
//   [current + matched, rows)     other replayed examples: beta x cross-entropy on their labels
//                                 (DER++; none for DER, beta 0).
// Each block's loss is its own mean, so a block's weight does not depend on the others' sizes.

#include <cstdint>
#include <span>

#include "neuromod/network.hpp"

namespace locus::bench {

struct DarkReplayLoss {
  double total = 0.0;
  double current = 0.0;   // cross-entropy of the current block
  double matched = 0.0;   // squared error of the logit block (before alpha)
  double labelled = 0.0;  // cross-entropy of the last block (before beta)
};

// `logits` (rows, outputs) of the whole minibatch; `labels` (rows) with the matched block's
// entries unused; `stored` (matched, outputs) the matched block's stored logits. Writes
// d total / d logits into `gradient` (resized to logits' shape). Throws InvalidArgumentError for
// blocks that do not fit the rows.
DarkReplayLoss dark_replay_loss(const neuromod::Matrix& logits,
                                std::span<const std::int32_t> labels, std::int64_t current,
                                const neuromod::Matrix& stored, double alpha, double beta,
                                neuromod::Matrix& gradient);

}  // namespace locus::bench
