#pragma once
// Which context a network with one context per task uses at test time, when the scenario hides
// the task (domain- and class-incremental streams) or to measure what knowing it is worth:
//   given            the task's id, where the scenario reveals it (task-incremental)
//   oracle           the task's id in any scenario: what inference could at best reach
//   batch-entropy    the context whose outputs have the lowest mean softmax entropy over the
//                    evaluation batch (SupSup's one-shot inference, Wortsman et al. 2020, which
//                    assumes a batch comes from one task)
//   example-entropy  for each example on its own, the context with the lowest entropy: no
//                    assumption about the batch
// Training opens the contexts at the task boundaries it is told, or finds them itself
// (context_discovery.hpp).

#include <cstdint>
#include <span>
#include <string_view>

#include "neuromod/network.hpp"

namespace locus::bench {

enum class ContextAtTest { kGiven, kOracle, kBatchEntropy, kExampleEntropy };
std::string_view context_at_test_name(ContextAtTest rule);
// Throws InvalidArgumentError naming the allowed values.
ContextAtTest context_at_test_from_name(std::string_view name);
inline bool infers_context(ContextAtTest rule) {
  return rule == ContextAtTest::kBatchEntropy || rule == ContextAtTest::kExampleEntropy;
}

struct InferredEvaluation {
  std::size_t correct = 0;        // rows classified correctly
  std::size_t right_context = 0;  // rows whose chosen context is the task's own
};

// Evaluates `inputs` (labels `labels`, from the task whose own context is `own_context`) with the
// context each row gets by `rule` (batch- or example-entropy) among the network's contexts
// 0..count-1.
InferredEvaluation evaluate_inferring_context(neuromod::Network& network,
                                              const neuromod::Matrix& inputs,
                                              std::span<const std::int32_t> labels,
                                              neuromod::ContextId own_context, ContextAtTest rule);

// Softmax entropy (nats) of each row of `logits`.
void row_entropies(const neuromod::Matrix& logits, std::span<double> out);

}  // namespace locus::bench
