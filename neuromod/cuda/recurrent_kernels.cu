// The recurrent layers' per-step kernels: a grid-stride loop over the batch * units elements of
// one step, each element computed by recurrent_steps.hpp. The elements of a step are independent
// (an element reads and writes only its own unit's entries of the carried gradients), so no
// barrier and no atomics: the results are the same bits on every run.

#include <string>

#include "neuromod/cuda/cuda_check.hpp"
#include "neuromod/cuda/recurrent_kernels.hpp"

namespace locus::neuromod::cuda {

namespace {

constexpr int kThreads = 256;

// One block per kThreads elements, capped: the grid-stride loop covers the rest.
int blocks_for(std::size_t n) {
  const std::size_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<int>(blocks < 65535 ? blocks : 65535);
}

void require_elements(std::size_t batch, std::size_t units, const char* what) {
  if (batch == 0 || units == 0) {
    throw InvalidArgumentError(std::string("CUDA kernel launch: ") + what + ": " +
                               std::to_string(batch) + " sequences of " + std::to_string(units) +
                               " units (both must be positive)");
  }
}

__device__ __forceinline__ std::size_t first_element() {
  return blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
}
__device__ __forceinline__ std::size_t element_stride() {
  return std::size_t(gridDim.x) * blockDim.x;
}

__global__ void state_entry_kernel(StateEntry step) {
  const std::size_t n = step.batch * step.units;
  for (std::size_t e = first_element(); e < n; e += element_stride()) {
    enter_state(step, e / step.units, e % step.units);
  }
}

__global__ void cell_forward_kernel(CellForwardStep step) {
  const std::size_t n = step.batch * step.units;
  for (std::size_t e = first_element(); e < n; e += element_stride()) {
    cell_forward(step, e / step.units, e % step.units);
  }
}

__global__ void cell_backward_kernel(CellBackwardStep step) {
  const std::size_t n = step.batch * step.units;
  for (std::size_t e = first_element(); e < n; e += element_stride()) {
    cell_backward(step, e / step.units, e % step.units);
  }
}

}  // namespace

void launch_state_entry(cudaStream_t stream, const StateEntry& step) {
  require_elements(step.batch, step.units, "state_entry");
  state_entry_kernel<<<blocks_for(step.batch * step.units), kThreads, 0, stream>>>(step);
  LOCUS_CUDA_CHECK_LAUNCH(state_entry_kernel);
}

void launch_cell_forward(cudaStream_t stream, const CellForwardStep& step) {
  require_elements(step.batch, step.units, "cell_forward");
  cell_forward_kernel<<<blocks_for(step.batch * step.units), kThreads, 0, stream>>>(step);
  LOCUS_CUDA_CHECK_LAUNCH(cell_forward_kernel);
}

void launch_cell_backward(cudaStream_t stream, const CellBackwardStep& step) {
  require_elements(step.batch, step.units, "cell_backward");
  cell_backward_kernel<<<blocks_for(step.batch * step.units), kThreads, 0, stream>>>(step);
  LOCUS_CUDA_CHECK_LAUNCH(cell_backward_kernel);
}

}  // namespace locus::neuromod::cuda
