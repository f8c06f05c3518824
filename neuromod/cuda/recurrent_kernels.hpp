#pragma once
// Launchers of the recurrent layers' per-step kernels (recurrent_kernels.cu): one thread per
// (sequence, unit) element of the step, each running the element function of recurrent_steps.hpp
// that the CPU tests check. Every pointer in the step structures is a device pointer.

#include <cuda_runtime_api.h>

#include "neuromod/cuda/recurrent_steps.hpp"

namespace locus::neuromod::cuda {

void launch_state_entry(cudaStream_t stream, const StateEntry& step);
void launch_cell_forward(cudaStream_t stream, const CellForwardStep& step);
void launch_cell_backward(cudaStream_t stream, const CellBackwardStep& step);

}  // namespace locus::neuromod::cuda
