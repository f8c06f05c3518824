#include "neuromod/cuda/cuda_recurrent.hpp"

#include "neuromod/cuda/cuda_check.hpp"
#include "neuromod/cuda/device_buffer.hpp"
#include "neuromod/cuda/recurrent_kernels.hpp"

namespace locus::neuromod::cuda {

namespace {

cublasOperation_t operation(bool transpose) {
  return transpose ? CUBLAS_OP_T : CUBLAS_OP_N;
}

// Uploads a host (count) array into `buffer`, or returns null for a null `host`.
const float* upload(cudaStream_t stream, DeviceArray<float>& buffer, const float* host,
                    std::size_t count) {
  if (host == nullptr || count == 0) return nullptr;
  float* device = ensure(buffer, count);
  // From pageable memory the call returns once the data is staged: the caller may free `host`.
  LOCUS_CUDA_CHECK(
      cudaMemcpyAsync(device, host, count * sizeof(float), cudaMemcpyHostToDevice, stream));
  return device;
}

}  // namespace

void run_recurrent_ops(cudaStream_t stream, cublasHandle_t cublas,
                       std::span<const RecurrentOp> ops) {
  for (const RecurrentOp& op : ops) {
    if (const auto* p = std::get_if<Product>(&op)) {
      LOCUS_CUBLAS_CHECK(cublasSgemm(cublas, operation(p->transpose_a), operation(p->transpose_b),
                                     p->m, p->n, p->k, &p->alpha, p->a, p->lda, p->b, p->ldb,
                                     &p->beta, p->c, p->ldc));
    } else if (const auto* entry = std::get_if<StateEntry>(&op)) {
      launch_state_entry(stream, *entry);
    } else if (const auto* forward = std::get_if<CellForwardStep>(&op)) {
      launch_cell_forward(stream, *forward);
    } else if (const auto* backward = std::get_if<CellBackwardStep>(&op)) {
      launch_cell_backward(stream, *backward);
    }
  }
}

RecurrentTraceBuffers DeviceRecurrentLayer::trace() {
  RecurrentTraceBuffers trace;
  trace.input_sum = input_sum_;
  trace.recurrent_sum = recurrent_sum_.data();
  trace.gates = gates_.data();
  trace.previous = previous_.data();
  trace.previous_cell = shape_.lstm() ? previous_cell_.data() : nullptr;
  trace.cell = shape_.lstm() ? cell_.data() : nullptr;
  trace.hidden = hidden_;
  return trace;
}

void DeviceRecurrentLayer::forward(cudaStream_t stream, cublasHandle_t cublas,
                                   const RecurrentShape& shape, const RecurrentInputs& inputs,
                                   std::span<const float> noise, const float* input_sum,
                                   float* hidden) {
  shape_ = shape;
  input_sum_ = input_sum;
  hidden_ = hidden;
  const RecurrentBufferSizes sizes = recurrent_buffer_sizes(shape, !noise.empty(), false, false);
  if (!noise.empty() && noise.size() != sizes.noise) {
    throw ShapeError("DeviceRecurrentLayer::forward: " + std::to_string(noise.size()) +
                     " noise values for " + std::to_string(sizes.noise) + " (rows * units)");
  }
  ensure(recurrent_sum_, sizes.recurrent_sum);
  ensure(gates_, sizes.gates);
  ensure(previous_, sizes.previous);
  if (shape.lstm()) {
    ensure(previous_cell_, sizes.cell);
    ensure(cell_, sizes.cell);
  }
  const std::size_t state = shape.batch * shape.units;
  RecurrentInputs device = inputs;
  device.initial_hidden = upload(stream, initial_hidden_, inputs.initial_hidden, state);
  device.initial_cell =
      shape.lstm() ? upload(stream, initial_cell_, inputs.initial_cell, state) : nullptr;
  device.noise = upload(stream, noise_, noise.data(), sizes.noise);
  ops_ = plan_recurrent_forward(shape, device, trace());
  run_recurrent_ops(stream, cublas, ops_);
}

void DeviceRecurrentLayer::backward(cudaStream_t stream, cublasHandle_t cublas,
                                    const RecurrentInputs& inputs, const float* d_hidden,
                                    float* d_input_sum, bool want_gain_terms, bool want_gate_grad,
                                    float* d_recurrent_weight) {
  const RecurrentBufferSizes sizes =
      recurrent_buffer_sizes(shape_, false, want_gain_terms, want_gate_grad);
  RecurrentGradientBuffers gradients;
  gradients.d_hidden = d_hidden;
  gradients.d_input_sum = d_input_sum;
  gradients.d_recurrent_sum = ensure(d_recurrent_sum_, sizes.d_recurrent_sum);
  gradients.gate_grad = want_gate_grad ? ensure(gate_grad_, sizes.gate_grad) : nullptr;
  gradients.gain_terms = want_gain_terms ? ensure(gain_terms_, sizes.gain_terms) : nullptr;
  gradients.carry = ensure(carry_, sizes.carry);
  gradients.carry_cell = shape_.lstm() ? ensure(carry_cell_, sizes.carry_cell) : nullptr;
  gradients.d_recurrent_weight = d_recurrent_weight;
  RecurrentInputs device = inputs;
  device.initial_hidden = device.initial_cell = device.noise = nullptr;
  ops_ = plan_recurrent_backward(shape_, device, trace(), gradients);
  run_recurrent_ops(stream, cublas, ops_);
}

}  // namespace locus::neuromod::cuda
