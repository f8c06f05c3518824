#include "neuromod/network_checks.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <utility>

#include "neuromod/errors.hpp"
#include "util/memory.hpp"

namespace locus::neuromod::checks {

std::size_t context_index(ContextId context, std::size_t count, std::string_view what) {
  if (context < 0 || std::size_t(context) >= count) {
    throw ContextError(
        fmt::format("{}: context {} does not exist (the network has {} contexts: "
                    "0..{})",
                    what, context, count, int(count) - 1));
  }
  return std::size_t(context);
}

void weight_set(const NetworkSpec& spec, std::size_t set) {
  if (set >= spec.weight_sets) {
    throw ContextError(fmt::format(
        "add_context: weight set {} does not exist; network '{}' has {} weight set{} (0..{}); "
        "set NetworkSpec::weight_sets for more",
        set, spec.name, spec.weight_sets, spec.weight_sets == 1 ? "" : "s", spec.weight_sets - 1));
  }
}

std::size_t parameter_instance(std::string_view name, bool per_context, ContextId context,
                               std::size_t count) {
  if (per_context) return context_index(context, count, fmt::format("parameter '{}'", name));
  if (context != kSharedContext) {
    throw ContextError(
        fmt::format("parameter '{}' is shared by all contexts; ask for it with "
                    "kSharedContext (-1), not context {}",
                    name, context));
  }
  return 0;
}

void unknown_parameter(std::string_view network, std::string_view name,
                       const std::vector<std::string>& known) {
  throw InvalidArgumentError(fmt::format("network '{}' has no parameter '{}' (parameters: {})",
                                         network, name, fmt::join(known, ", ")));
}

void writable_values(std::string_view name, bool trainable, std::size_t width,
                     std::span<const float> values, bool check_finite, std::string_view call) {
  if (!trainable) {
    throw InvalidArgumentError(
        fmt::format("{}: '{}' is a fixed random weight, "
                    "regenerated from the seed; it cannot be written",
                    call, name));
  }
  if (values.size() != width) {
    throw ShapeError(
        fmt::format("{}: '{}' has {} elements, got {}", call, name, width, values.size()));
  }
  if (!check_finite) return;
  if (const std::size_t i = find_non_finite(values.data(), values.size()); i < values.size()) {
    throw NonFiniteError(fmt::format("non-finite value {} in values written to {} at element {}",
                                     values[i], name, i));
  }
}

void writable_optimizer_state(std::string_view name, bool trainable, std::size_t width,
                              const OptimizerConfig& optimizer, const OptimizerState& state,
                              bool check_finite) {
  if (!trainable) {
    throw InvalidArgumentError(
        fmt::format("write_optimizer_state: '{}' is a fixed random weight; it has no optimizer "
                    "state",
                    name));
  }
  if (state.steps < 0) {
    throw InvalidArgumentError(
        fmt::format("write_optimizer_state: '{}': steps = {}; it must be >= 0", name, state.steps));
  }
  const std::size_t arrays = optimizer.state_arrays();
  const std::size_t first = arrays >= 1 ? width : 0, second = arrays >= 2 ? width : 0;
  if (state.first.size() != first || state.second.size() != second) {
    throw ShapeError(fmt::format(
        "write_optimizer_state: the {} optimizer keeps {} state array(s) for '{}' ({} elements): "
        "first of {} and second of {} elements, got {} and {}; set the optimizer before writing "
        "its state",
        to_string(optimizer.kind), arrays, name, width, first, second, state.first.size(),
        state.second.size()));
  }
  if (!check_finite) return;
  const std::pair<const char*, const std::vector<float>*> written[] = {{"first", &state.first},
                                                                       {"second", &state.second}};
  for (const auto& [which, array] : written) {
    if (const std::size_t i = find_non_finite(array->data(), array->size()); i < array->size()) {
      throw NonFiniteError(
          fmt::format("non-finite value {} in the {} optimizer state written to {} at element {}",
                      (*array)[i], which, name, i));
    }
  }
}

void weight_gain_slot(std::string_view what, std::size_t slot, std::size_t slots) {
  if (slot >= slots) {
    throw InvalidArgumentError(
        fmt::format("{}: slot {} out of range; the network has {} weighted "
                    "layers (0..{}: layers, then heads)",
                    what, slot, slots, slots - 1));
  }
}

void weight_gain_value(float gain, std::size_t slot) {
  if (!std::isfinite(gain)) {
    throw NonFiniteError(
        fmt::format("set_weight_gain: gain {} for slot {} is not finite", gain, slot));
  }
}

void forward_inputs(const NetworkSpec& spec, std::size_t rows, std::size_t cols,
                    std::size_t context_ids, ContextId selected) {
  if (rows == 0 || cols != spec.input_dim) {
    throw ShapeError(
        fmt::format("forward: inputs have shape ({}, {}); network '{}' takes (batch "
                    ">= 1, {})",
                    rows, cols, spec.name, spec.input_dim));
  }
  if (context_ids != 0 && context_ids != rows) {
    throw ShapeError(
        fmt::format("forward: {} context ids for a batch of {} rows; give one per row "
                    "or none (selected context {})",
                    context_ids, rows, selected));
  }
}

void finite_inputs(const float* data, std::size_t size, std::size_t input_dim) {
  if (const std::size_t i = find_non_finite(data, size); i < size) {
    throw NonFiniteError(fmt::format("non-finite value {} in forward inputs at row {}, column {}",
                                     data[i], i / input_dim, i % input_dim));
  }
}

void backward_call(bool has_forward, bool contexts_unchanged, std::size_t gradients,
                   std::size_t heads) {
  if (!has_forward) {
    throw Error("backward: no forward pass to differentiate (call forward first)");
  }
  if (!contexts_unchanged) {
    throw Error("backward: contexts were added since the forward pass; run forward again");
  }
  if (gradients != heads) {
    throw ShapeError(
        fmt::format("backward: {} head gradients for {} heads; give one per head (an "
                    "empty one for a head without loss)",
                    gradients, heads));
  }
}

void head_gradient(const HeadSpec& head, std::size_t rows, std::size_t grad_rows,
                   std::size_t grad_cols, const float* data, bool check_finite) {
  if (grad_rows != rows || grad_cols != head.units) {
    throw ShapeError(
        fmt::format("backward: gradient of head '{}' has shape ({}, {}); the last "
                    "forward gave ({}, {})",
                    head.name, grad_rows, grad_cols, rows, head.units));
  }
  if (!check_finite) return;
  const std::size_t n = grad_rows * grad_cols;
  if (const std::size_t i = find_non_finite(data, n); i < n) {
    throw NonFiniteError(
        fmt::format("non-finite value {} in the gradient given for head '{}' at element {}",
                    data[i], head.name, i));
  }
}

ContextId row_context(std::span<const ContextId> context_ids, std::size_t row, ContextId selected,
                      std::size_t count) {
  const ContextId c = context_ids.empty() ? selected : context_ids[row];
  if (c < 0 || std::size_t(c) >= count) {
    throw ContextError(
        fmt::format("forward: row {} has context {}, but the network has {} "
                    "contexts (0..{})",
                    row, c, count, int(count) - 1));
  }
  return c;
}

void feed_forward_only(const NetworkSpec& spec) {
  if (spec.is_recurrent()) {
    throw InvalidArgumentError(fmt::format(
        "forward: network '{}' has recurrent layers, whose rows are steps of sequences; use "
        "forward_sequence(inputs (steps * batch, {}), batch, ...)",
        spec.name, spec.input_dim));
  }
}

void sequence_inputs(const NetworkSpec& spec, std::size_t rows, std::size_t cols, std::size_t batch,
                     std::size_t context_ids, std::size_t episode_starts) {
  if (batch == 0 || rows == 0 || rows % batch != 0 || cols != spec.input_dim) {
    throw ShapeError(fmt::format(
        "forward_sequence: inputs have shape ({}, {}) for a batch of {} sequences; network '{}' "
        "takes (steps * batch, {}) with steps >= 1 and batch >= 1, time-major",
        rows, cols, batch, spec.name, spec.input_dim));
  }
  if (context_ids != 0 && context_ids != batch && context_ids != rows) {
    throw ShapeError(fmt::format(
        "forward_sequence: {} context ids for {} sequences of {} steps; give one per sequence "
        "({}), one per row ({}) or none",
        context_ids, batch, rows / batch, batch, rows));
  }
  if (episode_starts != 0 && episode_starts != rows) {
    throw ShapeError(fmt::format(
        "forward_sequence: {} episode_starts flags for {} rows ({} steps of {} sequences); give "
        "one per row or none",
        episode_starts, rows, rows / batch, batch));
  }
  const std::uint64_t bytes = spec.activation_bytes(rows);
  util::require_memory<InvalidArgumentError>(
      bytes,
      fmt::format("forward_sequence over {} steps of {} sequences (network '{}' keeps {} bytes "
                  "of activations per row for backpropagation through time)",
                  rows / batch, batch, spec.name, spec.activation_bytes(1)),
      "pass fewer steps per call (a shorter BPTT window, carrying final_state() into the next "
      "call) or fewer sequences");
}

std::vector<ContextId> sequence_call(const NetworkSpec& spec, const Matrix& inputs,
                                     std::size_t batch, std::span<const ContextId> context_ids,
                                     const RecurrentState* initial_state,
                                     std::span<const std::uint8_t> episode_starts,
                                     bool check_finite) {
  const std::size_t rows = inputs.shape()[0];
  sequence_inputs(spec, rows, inputs.shape()[1], batch, context_ids.size(), episode_starts.size());
  if (initial_state) recurrent_state(spec, *initial_state, batch, check_finite);
  return sequence_row_contexts(context_ids, rows, batch);
}

std::vector<ContextId> sequence_row_contexts(std::span<const ContextId> context_ids,
                                             std::size_t rows, std::size_t batch) {
  if (context_ids.empty() || context_ids.size() == rows) {
    return {context_ids.begin(), context_ids.end()};
  }
  std::vector<ContextId> per_row(rows);
  for (std::size_t r = 0; r < rows; ++r) per_row[r] = context_ids[r % batch];
  return per_row;
}

void recurrent_state(const NetworkSpec& spec, const RecurrentState& state, std::size_t batch,
                     bool check_finite) {
  std::vector<std::pair<std::size_t, std::string>> expected;  // (units, what) per tensor
  for (std::size_t l = 0; l < spec.layers.size(); ++l) {
    const LayerSpec& layer = spec.layers[l];
    if (layer.recurrence == Recurrence::kNone) continue;
    expected.emplace_back(layer.units, fmt::format("layer {} hidden state", l));
    if (layer.recurrence == Recurrence::kLstm) {
      expected.emplace_back(layer.units, fmt::format("layer {} cell state", l));
    }
  }
  if (state.size() != expected.size()) {
    throw ShapeError(fmt::format(
        "forward_sequence: the initial state has {} tensors; network '{}' carries {} (one hidden "
        "state per recurrent layer, and a cell state after each LSTM's); use zero_state(batch) "
        "or final_state()",
        state.size(), spec.name, expected.size()));
  }
  for (std::size_t i = 0; i < state.size(); ++i) {
    const auto& shape = state[i].shape();
    if (shape[0] != batch || shape[1] != expected[i].first) {
      throw ShapeError(fmt::format(
          "forward_sequence: the initial {} has shape ({}, {}); expected ({}, {}) for {} "
          "sequences",
          expected[i].second, shape[0], shape[1], batch, expected[i].first, batch));
    }
    if (!check_finite) continue;
    if (const std::size_t e = find_non_finite(state[i].data(), state[i].size());
        e < state[i].size()) {
      throw NonFiniteError(fmt::format("non-finite value {} in the initial {} at row {}, unit {}",
                                       state[i].data()[e], expected[i].second,
                                       e / expected[i].first, e % expected[i].first));
    }
  }
}

// The fast path multiplies every value by zero into eight accumulators (0 for finite values, NaN
// otherwise), which the compiler vectorizes; only data that has a bad value is scanned again.
std::size_t find_non_finite(const float* data, std::size_t n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (std::size_t k = 0; k < 8; ++k) acc[k] += data[i + k] * 0.0f;
  }
  for (; i < n; ++i) acc[0] += data[i] * 0.0f;
  float all = 0.0f;
  for (float a : acc) all += a;
  if (all == 0.0f) return n;
  for (std::size_t j = 0; j < n; ++j) {
    if (!std::isfinite(data[j])) return j;
  }
  return n;
}

}  // namespace locus::neuromod::checks
