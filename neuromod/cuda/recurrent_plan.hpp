#pragma once
// The host-side plan of a recurrent layer on the CUDA backend: which buffers a sequence batch
// needs, and the ordered list of operations (cuBLAS products with their exact arguments, and the
// per-step kernels of recurrent_steps.hpp with their pointers) that run its forward and backward
// passes. Plain C++: it compiles without CUDA, and the CPU tests run the same operations on host
// memory (a plain column-major product for each Product, the element functions for each step)
// against the host backend's recurrent_layer.cpp. cuda_recurrent.cpp runs them on the device.
//
// The layer (spec.hpp's equations), for `steps` steps of `batch` sequences, rows time-major (row
// t * batch + b is sequence b at step t):
//   forward:  StateEntry (step 0's entering state); then per step t: Product hz_t = s_w h_t U^T,
//             CellForwardStep t (gates, new state, and step t + 1's entering state)
//   backward: per step t from the last: CellBackwardStep t (gradients at the sums, gain and bias
//             terms, the carried state gradient), then Product carry += s_w dhz_t U (not at t = 0:
//             no gradient reaches the initial state); finally Product dU += s_w dhz^T h_prev over
//             all rows when U learns.
// The input sums xz = s_w x W^T (one product over the whole sequence), dW and dx are formed by the
// network as for a dense layer of gates * units rows; the gain and bias gradients are the
// per-context sums of gain_terms and gate_grad over the rows (the network's reduce_rows).

#include <cstddef>
#include <cstdint>
#include <variant>
#include <vector>

#include "neuromod/cuda/recurrent_steps.hpp"
#include "neuromod/recurrent_layer.hpp"
#include "neuromod/spec.hpp"

namespace locus::neuromod::cuda {

// One cublasSgemm call, in cuBLAS's column-major terms: c (m, n) = alpha * op(a) op(b) + beta * c,
// op(a) (m, k), op(b) (k, n); beta 0 ignores what c held.
struct Product {
  bool transpose_a = false, transpose_b = false;
  int m = 0, n = 0, k = 0;
  float alpha = 1.0f;
  const float* a = nullptr;
  int lda = 0;
  const float* b = nullptr;
  int ldb = 0;
  float beta = 0.0f;
  float* c = nullptr;
  int ldc = 0;
};

// The row-major products of the network (cuda_network.cpp's gemm_* helpers), as Product:
// z (rows, out) = alpha * x (rows, in) W^T + beta * z, with W (out, in)
Product product_forward(const float* x, std::size_t rows, std::size_t in, const float* weight,
                        std::size_t out, float alpha, float beta, float* z);
// dx (rows, in) = alpha * dz (rows, out) W + beta * dx
Product product_backward_input(const float* dz, std::size_t rows, std::size_t out,
                               const float* weight, std::size_t in, float alpha, float beta,
                               float* dx);
// dW (out, in) += alpha * dz^T x
Product product_backward_weight(const float* dz, std::size_t rows, std::size_t out, const float* x,
                                std::size_t in, float alpha, float* dweight);

using RecurrentOp = std::variant<StateEntry, Product, CellForwardStep, CellBackwardStep>;

// The layer's shape, as the host backend has it (recurrent_layer.hpp).
using neuromod::recurrent_shape;
using neuromod::recurrent_state_index;
using neuromod::RecurrentShape;

// What the layer reads that is not its trace. All pointers address the same memory (the device,
// or the host in the tests).
struct RecurrentInputs {
  const float* recurrent_weight = nullptr;    // U (width, units)
  float weight_gain = 1.0f;                   // s_w
  const float* gain = nullptr;                // (contexts, width), or null
  const float* bias = nullptr;                // (contexts, width), or null
  const std::int32_t* row_context = nullptr;  // (rows)
  const std::int32_t* starts = nullptr;       // (rows), or null: no episode starts
  const float* initial_hidden = nullptr;      // (batch, units), or null: zeros
  const float* initial_cell = nullptr;        // LSTM (batch, units), or null: zeros
  const float* noise = nullptr;               // Elman (rows, units), or null
};

// The forward trace, (rows, width) or (rows, units); the cell arrays only for LSTM.
struct RecurrentTraceBuffers {
  const float* input_sum = nullptr;  // xz, filled before the plan runs
  float* recurrent_sum = nullptr;
  float* gates = nullptr;
  float* previous = nullptr;
  float* previous_cell = nullptr;
  float* cell = nullptr;
  float* hidden = nullptr;  // the layer's output, and the next layer's input
};

struct RecurrentGradientBuffers {
  const float* d_hidden = nullptr;      // (rows, units): from the layer above or the heads
  float* d_input_sum = nullptr;         // out (rows, width)
  float* d_recurrent_sum = nullptr;     // (rows, width)
  float* gate_grad = nullptr;           // (rows, width), or null when no bias learns
  float* gain_terms = nullptr;          // (rows, width), or null when no gain learns
  float* carry = nullptr;               // (batch, units) scratch
  float* carry_cell = nullptr;          // LSTM (batch, units) scratch
  float* d_recurrent_weight = nullptr;  // += dU (width, units), or null when U does not learn
};

// Elements of each buffer the plan needs, for the network to allocate (0: not needed).
struct RecurrentBufferSizes {
  std::size_t recurrent_sum = 0, gates = 0, previous = 0, hidden = 0;
  std::size_t cell = 0;   // each of previous_cell and cell
  std::size_t noise = 0;  // the uploaded noise
  std::size_t d_recurrent_sum = 0, gate_grad = 0, gain_terms = 0;
  std::size_t carry = 0, carry_cell = 0;
};
RecurrentBufferSizes recurrent_buffer_sizes(const RecurrentShape& shape, bool noise,
                                            bool gain_terms, bool gate_grad);

std::vector<RecurrentOp> plan_recurrent_forward(const RecurrentShape& shape,
                                                const RecurrentInputs& inputs,
                                                const RecurrentTraceBuffers& trace);
std::vector<RecurrentOp> plan_recurrent_backward(const RecurrentShape& shape,
                                                 const RecurrentInputs& inputs,
                                                 const RecurrentTraceBuffers& trace,
                                                 const RecurrentGradientBuffers& gradients);

}  // namespace locus::neuromod::cuda
