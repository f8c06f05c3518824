#pragma once
// The argument checks every Network backend makes at its boundary, written once so that the CPU,
// reference and CUDA backends reject the same calls with the same messages (docs/neuromod.md:
// public methods check their inputs, then call the implementation).

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "neuromod/network.hpp"

namespace locus::neuromod::checks {

// The index of `context` among `count` contexts; ContextError naming `what` otherwise.
std::size_t context_index(ContextId context, std::size_t count, std::string_view what);

// add_context: `set` is one of the spec's weight sets; ContextError naming the range otherwise.
void weight_set(const NetworkSpec& spec, std::size_t set);

// The instance of parameter `name` that `context` asks for: its context index for a per-context
// parameter, 0 for a shared one (which must be asked for with kSharedContext).
std::size_t parameter_instance(std::string_view name, bool per_context, ContextId context,
                               std::size_t count);

// InvalidArgumentError for a parameter name the network does not have, listing the ones it has.
[[noreturn]] void unknown_parameter(std::string_view network, std::string_view name,
                                    const std::vector<std::string>& known);

// The parameter block named `name` among any backend's `blocks` (each with .name and
// .per_context), with the instance `context` asks for in `instance` (parameter_instance), or
// unknown_parameter.
template <typename Blocks>
auto& find_block(Blocks& blocks, std::string_view network, std::string_view name, ContextId context,
                 std::size_t contexts, std::size_t& instance) {
  std::vector<std::string> known;
  for (auto& block : blocks) {
    if (block.name == name) {
      instance = parameter_instance(name, block.per_context, context, contexts);
      return block;
    }
    known.push_back(block.name);
  }
  unknown_parameter(network, name, known);
}

// What write_parameter (or `call`) accepts: a trainable parameter, the right size, finite values
// (if checked).
void writable_values(std::string_view name, bool trainable, std::size_t width,
                     std::span<const float> values, bool check_finite,
                     std::string_view call = "write_parameter");

// What write_optimizer_state accepts: a trainable parameter, steps >= 0, exactly the arrays that
// `optimizer` keeps (state_arrays()), each of the parameter's size, finite values (if checked).
void writable_optimizer_state(std::string_view name, bool trainable, std::size_t width,
                              const OptimizerConfig& optimizer, const OptimizerState& state,
                              bool check_finite);

// set_weight_gain / weight_gain: the slot exists (and the gain is finite).
void weight_gain_slot(std::string_view what, std::size_t slot, std::size_t slots);
void weight_gain_value(float gain, std::size_t slot);

// forward: inputs (rows, cols) fit the spec, one context id per row or none, inputs finite.
void forward_inputs(const NetworkSpec& spec, std::size_t rows, std::size_t cols,
                    std::size_t context_ids, ContextId selected);
void finite_inputs(const float* data, std::size_t size, std::size_t input_dim);
// backward: a forward to differentiate, no context added since, one gradient per head.
void backward_call(bool has_forward, bool contexts_unchanged, std::size_t gradients,
                   std::size_t heads);
// A head's incoming gradient: the shape of the last forward's output, finite values (if checked).
void head_gradient(const HeadSpec& head, std::size_t rows, std::size_t grad_rows,
                   std::size_t grad_cols, const float* data, bool check_finite);

// The context of row `row` (selected when no ids are given), checked against `count`.
ContextId row_context(std::span<const ContextId> context_ids, std::size_t row, ContextId selected,
                      std::size_t count);

// forward on a network with recurrent layers: InvalidArgumentError pointing to forward_sequence.
void feed_forward_only(const NetworkSpec& spec);
// forward_sequence: inputs (rows, cols) are `batch` whole sequences of the spec's input width,
// context ids number 0, batch or rows, episode_starts 0 or rows, and the activations backward
// keeps for those rows fit in the available memory.
void sequence_inputs(const NetworkSpec& spec, std::size_t rows, std::size_t cols, std::size_t batch,
                     std::size_t context_ids, std::size_t episode_starts);
// Every check of a forward_sequence call (sequence_inputs, then recurrent_state when an initial
// state is given); returns sequence_row_contexts.
std::vector<ContextId> sequence_call(const NetworkSpec& spec, const Matrix& inputs,
                                     std::size_t batch, std::span<const ContextId> context_ids,
                                     const RecurrentState* initial_state,
                                     std::span<const std::uint8_t> episode_starts,
                                     bool check_finite);
// The context ids of every row of a sequence batch: the given ones per row, or per sequence
// repeated at every step, or none (empty: the selected context).
std::vector<ContextId> sequence_row_contexts(std::span<const ContextId> context_ids,
                                             std::size_t rows, std::size_t batch);
// An initial state shaped as zero_state(batch): one (batch, units) matrix per state tensor.
void recurrent_state(const NetworkSpec& spec, const RecurrentState& state, std::size_t batch,
                     bool check_finite);

// Index of the first NaN or infinity in data[0, n), or n.
std::size_t find_non_finite(const float* data, std::size_t n);

}  // namespace locus::neuromod::checks
