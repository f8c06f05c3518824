#include "bench/harness/methods/context_inference.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "bench/harness/errors.hpp"

namespace locus::bench {

namespace nm = locus::neuromod;

std::string_view context_at_test_name(ContextAtTest rule) {
  switch (rule) {
    case ContextAtTest::kGiven:
      return "given";
    case ContextAtTest::kOracle:
      return "oracle";
    case ContextAtTest::kBatchEntropy:
      return "batch-entropy";
    case ContextAtTest::kExampleEntropy:
      return "example-entropy";
  }
  throw InvalidArgumentError("invalid ContextAtTest value");
}

ContextAtTest context_at_test_from_name(std::string_view name) {
  for (const auto rule : {ContextAtTest::kGiven, ContextAtTest::kOracle,
                          ContextAtTest::kBatchEntropy, ContextAtTest::kExampleEntropy}) {
    if (name == context_at_test_name(rule)) return rule;
  }
  throw InvalidArgumentError(fmt::format(
      "setting 'context_at_test' is '{}'; allowed: given, oracle, batch-entropy, example-entropy",
      name));
}

void row_entropies(const nm::Matrix& logits, std::span<double> out) {
  const std::size_t cols = logits.shape(1);
  for (std::size_t r = 0; r < logits.shape(0); ++r) {
    const float* row = logits.data() + r * cols;
    const double top = *std::max_element(row, row + cols);
    double sum = 0.0, weighted = 0.0;
    for (std::size_t c = 0; c < cols; ++c) {
      const double shifted = row[c] - top;
      const double e = std::exp(shifted);
      sum += e;
      weighted += e * shifted;
    }
    // H = log sum e^z - sum softmax(z) z, with z shifted by the maximum.
    out[r] = std::log(sum) - weighted / sum;
  }
}

namespace {

bool argmax_is(const nm::Matrix& logits, std::size_t row, std::int32_t label) {
  const std::size_t cols = logits.shape(1);
  const float* values = logits.data() + row * cols;
  return std::max_element(values, values + cols) - values == label;
}

}  // namespace

InferredEvaluation evaluate_inferring_context(nm::Network& network, const nm::Matrix& inputs,
                                              std::span<const std::int32_t> labels,
                                              nm::ContextId own_context, ContextAtTest rule) {
  if (!infers_context(rule)) {
    throw InvalidArgumentError(
        fmt::format("context '{}' is not inferred", context_at_test_name(rule)));
  }
  const std::size_t rows = inputs.shape(0);
  const auto contexts = static_cast<nm::ContextId>(network.context_count());
  std::vector<nm::ContextId> chosen(rows, 0), row_context(rows);
  std::vector<char> correct(rows, 0);
  std::vector<double> best(rows, std::numeric_limits<double>::infinity()), entropy(rows);
  double best_mean = std::numeric_limits<double>::infinity();
  for (nm::ContextId context = 0; context < contexts; ++context) {
    std::fill(row_context.begin(), row_context.end(), context);
    const nm::Matrix& logits = network.forward(inputs, row_context).front();
    row_entropies(logits, entropy);
    if (rule == ContextAtTest::kExampleEntropy) {
      for (std::size_t r = 0; r < rows; ++r) {
        if (entropy[r] < best[r]) {
          best[r] = entropy[r];
          chosen[r] = context;
          correct[r] = argmax_is(logits, r, labels[r]) ? 1 : 0;
        }
      }
      continue;
    }
    double mean = 0.0;
    for (const double h : entropy) mean += h / static_cast<double>(rows);
    if (mean < best_mean) {
      best_mean = mean;
      std::fill(chosen.begin(), chosen.end(), context);
      for (std::size_t r = 0; r < rows; ++r) correct[r] = argmax_is(logits, r, labels[r]) ? 1 : 0;
    }
  }
  InferredEvaluation out;
  for (std::size_t r = 0; r < rows; ++r) {
    out.correct += static_cast<std::size_t>(correct[r]);
    out.right_context += chosen[r] == own_context ? 1 : 0;
  }
  return out;
}

}  // namespace locus::bench
