#pragma once
// Launchers of the CUDA backend's kernels (device_kernels.cu). Each launcher checks its sizes,
// picks the grid, launches on the given stream and checks the launch (CUDA_CHECK_LAUNCH); the
// kernels themselves are private to device_kernels.cu. All pointers are device pointers, every
// matrix is row-major; shapes are in the comments. Matrix products are cuBLAS calls made by
// cuda_network.cpp, not here.

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "neuromod/cuda/row_groups.hpp"
#include "neuromod/spec.hpp"

namespace locus::neuromod::cuda {

struct ModulationLaunch {
  std::size_t rows = 0, units = 0;
  const std::int32_t* row_context = nullptr;  // (rows)
  const float* gain = nullptr;                // (contexts, units) or null
  const float* bias = nullptr;                // (contexts, units) or null
  bool center = false;
  Activation activation = Activation::kRelu;
  ModulationSite site = ModulationSite::kPreActivation;
};

// z (rows, out) = scale * sparse(x (rows, in)): unit j sums x[index[j, t]] * value[j, t], t < k.
void sparse_forward(cudaStream_t stream, const float* x, std::size_t rows, std::size_t in,
                    const std::int32_t* index, const float* value, std::size_t out, std::size_t k,
                    float scale, float* z);
// dx (rows, in) (=|+=) scale * sparse^T(dz). The transpose is given as CSR over inputs:
// entries [input_begin[i], input_begin[i+1]) of `entries` are flat positions j * k + t.
void sparse_backward_input(cudaStream_t stream, const float* dz, std::size_t rows, std::size_t out,
                           const std::int32_t* input_begin, const std::int32_t* entries,
                           const float* value, std::size_t k, std::size_t in, float scale,
                           float* dx, bool accumulate);
// dvalue (out, k) += scale * sum_rows dz[r, j] * x[r, index[j, t]]
void sparse_backward_weight(cudaStream_t stream, const float* dz, std::size_t rows, std::size_t out,
                            const std::int32_t* index, std::size_t k, const float* x,
                            std::size_t in, float scale, float* dvalue);

// The fused layer epilogue: centering, per-row context gain and bias, activation. Writes h and the
// cache backward needs (saved: u at the pre-activation site, act(u) at the post-activation site).
void modulate_forward(cudaStream_t stream, const ModulationLaunch& args, const float* z,
                      float* saved, float* h);
// Its backward: dz (rows, units) from dh, and the per-row contributions to the gain and bias
// gradients (rows, units each; either may be null), reduced per context afterwards.
void modulate_backward(cudaStream_t stream, const ModulationLaunch& args, const float* saved,
                       const float* h, const float* dh, float* dz, float* gain_terms,
                       float* bias_terms);

// The same backward with the per-context reduction fused in: one block per chunk of `groups` (rows
// of one context) writes the chunk's sums of the gain and bias terms to gain_partial / bias_partial
// (chunk_count, units; either may be null), to be finished by reduce_partials. dz may be null when
// nothing reads it (the lowest layer that learns). A centered layer whose dz is written needs whole
// rows (2 * units floats of shared memory): fused_modulate_backward_fits(units, whole_rows) says
// whether the device gives that.
bool fused_modulate_backward_fits(std::size_t units, bool whole_rows);
void modulate_backward_fused(cudaStream_t stream, const ModulationLaunch& args,
                             const RowGroups& groups, const float* saved, const float* h,
                             const float* dh, float* dz, float* gain_partial, float* bias_partial);

// grad[target * width + u] += sum over the group's rows of terms[row, u], per group, in a fixed
// order. `partial` holds (chunk_count, width) floats of scratch.
void reduce_rows(cudaStream_t stream, const RowGroups& groups, const float* terms,
                 std::size_t width, float* partial, float* grad);
// The second stage alone: grad[target * width + u] += the group's chunk sums, in order.
void reduce_partials(cudaStream_t stream, const RowGroups& groups, const float* partial,
                     std::size_t width, float* grad);

// Head epilogue: y[r, j] = s[c_r] * lin[r, j] + b (b none, shared (units) or per context).
void head_output(cudaStream_t stream, std::size_t rows, std::size_t units,
                 const std::int32_t* row_context, const float* lin, const float* output_gain,
                 const float* bias, bool bias_per_context, float* y);
// Per-context readout: lin[r, j] = scale * dot(features[r, :], weight[c_r][j, :]).
void context_readout_forward(cudaStream_t stream, std::size_t rows, std::size_t units,
                             std::size_t features, const std::int32_t* row_context, const float* x,
                             const float* weight, float scale, float* lin);
// dr[r, j] = s[c_r] * dy[r, j]; dot[r] = sum_j dy[r, j] * lin[r, j] (if dot is not null).
void head_backward_terms(cudaStream_t stream, std::size_t rows, std::size_t units,
                         const std::int32_t* row_context, const float* dy, const float* lin,
                         const float* output_gain, float* dr, float* dot);
// dfeatures[r, :] += scale * sum_j dr[r, j] * weight[c_r][j, :]
void context_readout_backward_input(cudaStream_t stream, std::size_t rows, std::size_t units,
                                    std::size_t features, const std::int32_t* row_context,
                                    const float* dr, const float* weight, float scale,
                                    float* dfeatures);
// dweight[target][j, :] += scale * sum over the group's rows of dr[r, j] * x[r, :]
void context_readout_backward_weight(cudaStream_t stream, const RowGroups& groups,
                                     std::size_t units, std::size_t features, const float* dr,
                                     const float* x, float scale, float* dweight);

// Softmax cross-entropy of logits (rows, classes) against labels: gradient = (softmax - onehot) /
// rows; per-row loss and entropy (nats) into row_loss / row_entropy (rows); a label out of range
// sets *bad_label to 1. Then their means into totals[0] (loss) and totals[1] (entropy), in a fixed
// order.
void cross_entropy(cudaStream_t stream, std::size_t rows, std::size_t classes, const float* logits,
                   const std::int32_t* labels, float* gradient, float* row_loss, float* row_entropy,
                   double* totals, int* bad_label);

// Rows moved by a permutation `order` (rows) of row indices: gather dst[i, :] = src[order[i], :];
// scatter dst[order[i], :] = src[i, :]. A batch of a network with weight sets that does not come
// sorted by set is sorted this way at the input, and its outputs put back in the caller's order.
void gather_rows(cudaStream_t stream, const std::int32_t* order, std::size_t rows, std::size_t cols,
                 const float* src, float* dst);
void scatter_rows(cudaStream_t stream, const std::int32_t* order, std::size_t rows,
                  std::size_t cols, const float* src, float* dst);

// Sets *flag to 1 if any of data[0, n) is NaN or infinite.
void flag_non_finite(cudaStream_t stream, const float* data, std::size_t n, int* flag);

// --- the optimizer
// ---------------------------------------------------------------------------------
struct UpdateRule {
  int kind = 0;  // OptimizerKind as int (0 SGD, 1 momentum, 2 Adam, 3 RMSprop; checked at launch)
  float learning_rate = 0, momentum = 0, beta1 = 0, beta2 = 0, epsilon = 0, rms_alpha = 0;
  float weight_decay = 0, clip_value = 0;
  bool nesterov = false, decoupled_decay = false;
};
// Sum of squares (double) of grad[instance * width, + width) for each listed instance into
// partial[(slot_offset + slot) * chunks + chunk], with chunks = norm_chunks(width).
std::size_t norm_chunks(std::size_t width);
void gradient_square_sums(cudaStream_t stream, const float* grad, std::size_t width,
                          const std::int32_t* instances, int instance_count, double* partial);
// scalars[0] = sqrt(sum partial[0, count)) in order; scalars[1] = clip factor (as clip_factor()).
void finish_norm(cudaStream_t stream, const double* partial, std::size_t count, float clip_norm,
                 double* scalars);
// One update of each listed instance (instances[i], its 1-based step steps[i]) of a parameter
// block, gradients scaled by the clip factor in scalars[1]; sets *flag if an updated value is not
// finite.
void apply_updates(cudaStream_t stream, const UpdateRule& rule, float* value, const float* grad,
                   float* first, float* second, std::size_t width, const std::int32_t* instances,
                   const std::int64_t* steps, int instance_count, const double* scalars, int* flag);

}  // namespace locus::neuromod::cuda
