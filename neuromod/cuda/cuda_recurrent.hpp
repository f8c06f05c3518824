#pragma once
// One recurrent layer of a CudaNetwork (cuda_network.cpp): its device buffers (the trace of the
// last sequence batch and the backward scratch) and the execution of its plan
// (recurrent_plan.hpp) with cuBLAS and the kernels of recurrent_kernels.cu, on the network's
// stream. The network forms the input sums xz = s_w x W^T before forward (one product over the
// whole sequence, as for a dense layer), and dW, dx from d_input_sum after backward, and sums the
// gain and bias terms per context.

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <span>
#include <vector>

#include "neuromod/cuda/cuda_network.hpp"
#include "neuromod/cuda/recurrent_plan.hpp"

namespace locus::neuromod::cuda {

// Runs plan operations in order: each Product as cublasSgemm on `cublas` (bound to `stream`), each
// step as its kernel on `stream`.
void run_recurrent_ops(cudaStream_t stream, cublasHandle_t cublas,
                       std::span<const RecurrentOp> ops);

class DeviceRecurrentLayer {
 public:
  // The forward pass of `shape`. inputs: device pointers, except initial_hidden, initial_cell
  // (host (batch, units) arrays, or null) and noise (ignored: `noise` is the host noise
  // (rows, units), or empty), which are uploaded here. input_sum (rows, width) is read; hidden
  // (rows, units) receives the layer's output.
  void forward(cudaStream_t stream, cublasHandle_t cublas, const RecurrentShape& shape,
               const RecurrentInputs& inputs, std::span<const float> noise, const float* input_sum,
               float* hidden);
  // The backward pass of the last forward: inputs as the network has them now (device pointers;
  // the state and noise fields are not read). d_hidden (rows, units) in; d_input_sum
  // (rows, width) out; gain_terms() and gate_grad() hold the per-row terms of the gain and bias
  // gradients when asked for; dU is added to d_recurrent_weight unless it is null.
  void backward(cudaStream_t stream, cublasHandle_t cublas, const RecurrentInputs& inputs,
                const float* d_hidden, float* d_input_sum, bool want_gain_terms,
                bool want_gate_grad, float* d_recurrent_weight);
  const float* gain_terms() const { return gain_terms_.data(); }
  const float* gate_grad() const { return gate_grad_.data(); }
  // The cell state after each step (rows, units) of the last forward; LSTM only.
  const float* cell() const { return cell_.data(); }
  const RecurrentShape& shape() const { return shape_; }

 private:
  RecurrentTraceBuffers trace();

  RecurrentShape shape_;
  const float* input_sum_ = nullptr;
  float* hidden_ = nullptr;
  DeviceArray<float> recurrent_sum_, gates_, previous_, previous_cell_, cell_, noise_;
  DeviceArray<float> initial_hidden_, initial_cell_;
  DeviceArray<float> d_recurrent_sum_, gate_grad_, gain_terms_, carry_, carry_cell_;
  std::vector<RecurrentOp> ops_;  // reused: no allocation per call once warm
};

}  // namespace locus::neuromod::cuda
