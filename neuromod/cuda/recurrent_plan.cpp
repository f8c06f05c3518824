#include "neuromod/cuda/recurrent_plan.hpp"

#include <algorithm>

namespace locus::neuromod::cuda {

namespace {

// Offset of step t's block in a time-major (rows, cols) array.
std::size_t at_step(const RecurrentShape& shape, std::size_t t, std::size_t cols) {
  return t * shape.batch * cols;
}

template <typename T>
T* step_block(T* base, const RecurrentShape& shape, std::size_t t, std::size_t cols) {
  return base ? base + at_step(shape, t, cols) : nullptr;
}

CellShape cell_shape(const RecurrentShape& shape) {
  CellShape cell;
  cell.recurrence = shape.recurrence;
  cell.activation = shape.activation;
  cell.alpha = shape.alpha;
  cell.batch = shape.batch;
  cell.units = shape.units;
  return cell;
}

}  // namespace

Product product_forward(const float* x, std::size_t rows, std::size_t in, const float* weight,
                        std::size_t out, float alpha, float beta, float* z) {
  // Row-major z (rows, out) is column-major z^T (out, rows) = W (out, in) x^T (in, rows), where
  // the row-major W is the column-major (in, out) matrix transposed.
  return {true,    false, int(out), int(rows), int(in), alpha,   weight,
          int(in), x,     int(in),  beta,      z,       int(out)};
}

Product product_backward_input(const float* dz, std::size_t rows, std::size_t out,
                               const float* weight, std::size_t in, float alpha, float beta,
                               float* dx) {
  // dx^T (in, rows) = W^T (in, out) dz^T (out, rows); W^T is the row-major W read column-major.
  return {false,   false, int(in),  int(rows), int(out), alpha,  weight,
          int(in), dz,    int(out), beta,      dx,       int(in)};
}

Product product_backward_weight(const float* dz, std::size_t rows, std::size_t out, const float* x,
                                std::size_t in, float alpha, float* dweight) {
  // dW^T (in, out) += x^T (in, rows) dz (rows, out)
  return {false,   true, int(in),  int(out), int(rows), alpha,  x,
          int(in), dz,   int(out), 1.0f,     dweight,   int(in)};
}

RecurrentBufferSizes recurrent_buffer_sizes(const RecurrentShape& shape, bool noise,
                                            bool gain_terms, bool gate_grad) {
  const std::size_t rows = shape.rows(), units = rows * shape.units, width = rows * shape.width();
  RecurrentBufferSizes sizes;
  sizes.recurrent_sum = width;
  sizes.gates = width;
  sizes.previous = units;
  sizes.hidden = units;
  sizes.cell = shape.lstm() ? units : 0;
  sizes.noise = noise && shape.recurrence == Recurrence::kElman ? units : 0;
  sizes.d_recurrent_sum = width;
  sizes.gate_grad = gate_grad ? width : 0;
  sizes.gain_terms = gain_terms ? width : 0;
  sizes.carry = shape.batch * shape.units;
  sizes.carry_cell = shape.lstm() ? shape.batch * shape.units : 0;
  return sizes;
}

std::vector<RecurrentOp> plan_recurrent_forward(const RecurrentShape& shape,
                                                const RecurrentInputs& inputs,
                                                const RecurrentTraceBuffers& trace) {
  const std::size_t H = shape.units, width = shape.width(), B = shape.batch;
  const bool lstm = shape.lstm();
  std::vector<RecurrentOp> ops;
  ops.reserve(1 + 2 * shape.steps);
  StateEntry entry;
  entry.batch = B;
  entry.units = H;
  entry.starts = inputs.starts;  // step 0's rows are the first `batch`
  entry.initial_hidden = inputs.initial_hidden;
  entry.initial_cell = lstm ? inputs.initial_cell : nullptr;
  entry.previous = trace.previous;
  entry.previous_cell = lstm ? trace.previous_cell : nullptr;
  ops.emplace_back(entry);
  for (std::size_t t = 0; t < shape.steps; ++t) {
    float* previous = step_block(trace.previous, shape, t, H);
    float* recurrent_sum = step_block(trace.recurrent_sum, shape, t, width);
    ops.emplace_back(product_forward(previous, B, H, inputs.recurrent_weight, width,
                                     inputs.weight_gain, 0.0f, recurrent_sum));
    CellForwardStep step{cell_shape(shape)};
    step.input_sum = step_block(trace.input_sum, shape, t, width);
    step.recurrent_sum = recurrent_sum;
    step.previous = previous;
    step.previous_cell = lstm ? step_block(trace.previous_cell, shape, t, H) : nullptr;
    step.noise =
        shape.recurrence == Recurrence::kElman ? step_block(inputs.noise, shape, t, H) : nullptr;
    step.gain = inputs.gain;
    step.bias = inputs.bias;
    step.row_context = step_block(inputs.row_context, shape, t, 1);
    step.gates = step_block(trace.gates, shape, t, width);
    step.cell = lstm ? step_block(trace.cell, shape, t, H) : nullptr;
    step.hidden = step_block(trace.hidden, shape, t, H);
    if (t + 1 < shape.steps) {
      step.next_previous = step_block(trace.previous, shape, t + 1, H);
      step.next_previous_cell = lstm ? step_block(trace.previous_cell, shape, t + 1, H) : nullptr;
      step.next_starts = step_block(inputs.starts, shape, t + 1, 1);
    }
    ops.emplace_back(step);
  }
  return ops;
}

std::vector<RecurrentOp> plan_recurrent_backward(const RecurrentShape& shape,
                                                 const RecurrentInputs& inputs,
                                                 const RecurrentTraceBuffers& trace,
                                                 const RecurrentGradientBuffers& gradients) {
  const std::size_t H = shape.units, width = shape.width(), B = shape.batch;
  const bool lstm = shape.lstm();
  std::vector<RecurrentOp> ops;
  ops.reserve(2 * shape.steps + 1);
  for (std::size_t t = shape.steps; t-- > 0;) {
    CellBackwardStep step{cell_shape(shape)};
    step.d_hidden = step_block(gradients.d_hidden, shape, t, H);
    step.input_sum = step_block(trace.input_sum, shape, t, width);
    step.recurrent_sum = step_block(trace.recurrent_sum, shape, t, width);
    step.gates = step_block(trace.gates, shape, t, width);
    step.previous = step_block(trace.previous, shape, t, H);
    step.previous_cell = lstm ? step_block(trace.previous_cell, shape, t, H) : nullptr;
    step.cell = lstm ? step_block(trace.cell, shape, t, H) : nullptr;
    step.gain = inputs.gain;
    step.row_context = step_block(inputs.row_context, shape, t, 1);
    step.carry_valid = t + 1 < shape.steps;
    step.next_starts = step.carry_valid ? step_block(inputs.starts, shape, t + 1, 1) : nullptr;
    step.carry = gradients.carry;
    step.carry_cell = lstm ? gradients.carry_cell : nullptr;
    step.d_input_sum = step_block(gradients.d_input_sum, shape, t, width);
    step.d_recurrent_sum = step_block(gradients.d_recurrent_sum, shape, t, width);
    step.gate_grad = step_block(gradients.gate_grad, shape, t, width);
    step.gain_terms = step_block(gradients.gain_terms, shape, t, width);
    ops.emplace_back(step);
    if (t > 0) {  // the gradient at the entering state through U, for step t - 1
      ops.emplace_back(product_backward_input(step.d_recurrent_sum, B, width,
                                              inputs.recurrent_weight, H, inputs.weight_gain, 1.0f,
                                              gradients.carry));
    }
  }
  if (gradients.d_recurrent_weight) {
    ops.emplace_back(product_backward_weight(gradients.d_recurrent_sum, shape.rows(), width,
                                             trace.previous, H, inputs.weight_gain,
                                             gradients.d_recurrent_weight));
  }
  return ops;
}

}  // namespace locus::neuromod::cuda
