// The CUDA backend's kernels and their launchers (device_kernels.hpp). Every reduction runs in a
// fixed order (per-thread strided sums, then a fixed tree), never with floating-point atomics, so
// the same inputs give the same bits on every run.

#include <cmath>
#include <string>

#include "neuromod/cuda/cuda_check.hpp"
#include "neuromod/cuda/device_kernels.hpp"
#include "neuromod/cuda/recurrent_steps.hpp"

namespace locus::neuromod::cuda {

namespace {

constexpr int kThreads = 256;
constexpr std::size_t kNormChunk = 4096;

int blocks_for(std::size_t n, int threads = kThreads) {
  const std::size_t blocks = (n + std::size_t(threads) - 1) / std::size_t(threads);
  // Grid-stride loops cover the rest; 65535 * 4 blocks keep every SM busy.
  return static_cast<int>(blocks < 262140 ? (blocks == 0 ? 1 : blocks) : 262140);
}

void require(bool condition, const std::string& message) {
  if (!condition) throw InvalidArgumentError("CUDA kernel launch: " + message);
}

// Sum over the block in a fixed tree; every thread gets the result. blockDim.x == kThreads.
template <typename T>
__device__ T block_sum(T value) {
  __shared__ T shared[kThreads / 32];
  for (int offset = 16; offset > 0; offset /= 2)
    value += __shfl_down_sync(0xffffffffu, value, offset);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (lane == 0) shared[warp] = value;
  __syncthreads();
  if (warp == 0) {
    value = lane < kThreads / 32 ? shared[lane] : T(0);
    for (int offset = 16; offset > 0; offset /= 2) {
      value += __shfl_down_sync(0xffffffffu, value, offset);
    }
    if (lane == 0) shared[0] = value;
  }
  __syncthreads();
  const T total = shared[0];
  __syncthreads();  // the buffer may be reused by the caller's next block_sum
  return total;
}

__device__ float warp_sum(float value) {
  for (int offset = 16; offset > 0; offset /= 2)
    value += __shfl_down_sync(0xffffffffu, value, offset);
  return __shfl_sync(0xffffffffu, value, 0);
}

__global__ void sparse_forward_kernel(const float* x, std::size_t rows, std::size_t in,
                                      const std::int32_t* index, const float* value,
                                      std::size_t out, std::size_t k, float scale, float* z) {
  const std::size_t n = rows * out;
  for (std::size_t e = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; e < n;
       e += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t r = e / out, j = e % out;
    const float* xr = x + r * in;
    float sum = 0.0f;
    for (std::size_t t = 0; t < k; ++t) sum += xr[index[j * k + t]] * value[j * k + t];
    z[e] = scale * sum;
  }
}

__global__ void sparse_backward_input_kernel(const float* dz, std::size_t rows, std::size_t out,
                                             const std::int32_t* input_begin,
                                             const std::int32_t* entries, const float* value,
                                             std::size_t k, std::size_t in, float scale, float* dx,
                                             bool accumulate) {
  const std::size_t n = rows * in;
  for (std::size_t e = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; e < n;
       e += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t r = e / in, i = e % in;
    float sum = 0.0f;
    for (int p = input_begin[i]; p < input_begin[i + 1]; ++p) {
      const std::int32_t position = entries[p];
      sum += dz[r * out + std::size_t(position) / k] * value[position];
    }
    dx[e] = accumulate ? dx[e] + scale * sum : scale * sum;
  }
}

__global__ void sparse_backward_weight_kernel(const float* dz, std::size_t rows, std::size_t out,
                                              const std::int32_t* index, std::size_t k,
                                              const float* x, std::size_t in, float scale,
                                              float* dvalue) {
  const std::size_t n = out * k;
  for (std::size_t e = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; e < n;
       e += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t j = e / k;
    const std::size_t column = std::size_t(index[e]);
    float sum = 0.0f;
    for (std::size_t r = 0; r < rows; ++r) sum += dz[r * out + j] * x[r * in + column];
    dvalue[e] += scale * sum;
  }
}

// The forward epilogue of one element.
__device__ __forceinline__ void modulate_one(const ModulationLaunch& a, float z, float mean,
                                             float gain, float bias, float& saved, float& h) {
  const float u = z - mean;
  if (a.site == ModulationSite::kPreActivation) {
    saved = u;
    h = cell::activate(a.activation, gain * u + bias);
  } else {
    const float act = cell::activate(a.activation, u);
    saved = act;
    h = gain * act + bias;
  }
}

// One warp per row (grid-stride over rows): no block-wide barrier, and 16-byte accesses when the
// row length allows (VECTOR). `saved` may alias z (pre-activation site without centering); it is
// then not written.
template <bool VECTOR>
__global__ void modulate_forward_kernel(ModulationLaunch a, const float* z, float* saved,
                                        float* h) {
  const std::size_t n = a.units;
  const std::size_t lane = threadIdx.x % 32;
  const std::size_t warps = std::size_t(gridDim.x) * blockDim.x / 32;
  const bool write_saved = saved != z;
  for (std::size_t r = (blockIdx.x * std::size_t(blockDim.x) + threadIdx.x) / 32; r < a.rows;
       r += warps) {
    const float* zr = z + r * n;
    float mean = 0.0f;
    if (a.center) {
      double partial = 0.0;
      for (std::size_t j = lane; j < n; j += 32) partial += zr[j];
      for (int offset = 16; offset > 0; offset /= 2) {
        partial += __shfl_xor_sync(0xffffffffu, partial, offset);
      }
      mean = static_cast<float>(partial / double(n));
    }
    const std::size_t c = std::size_t(a.row_context[r]);
    const float* g = a.gain ? a.gain + c * n : nullptr;
    const float* b = a.bias ? a.bias + c * n : nullptr;
    if constexpr (VECTOR) {
      for (std::size_t j = 4 * lane; j < n; j += 128) {
        const float4 zv = *reinterpret_cast<const float4*>(zr + j);
        const float4 gv = g ? *reinterpret_cast<const float4*>(g + j) : make_float4(1, 1, 1, 1);
        const float4 bv = b ? *reinterpret_cast<const float4*>(b + j) : make_float4(0, 0, 0, 0);
        float4 sv, hv;
        modulate_one(a, zv.x, mean, gv.x, bv.x, sv.x, hv.x);
        modulate_one(a, zv.y, mean, gv.y, bv.y, sv.y, hv.y);
        modulate_one(a, zv.z, mean, gv.z, bv.z, sv.z, hv.z);
        modulate_one(a, zv.w, mean, gv.w, bv.w, sv.w, hv.w);
        if (write_saved) *reinterpret_cast<float4*>(saved + r * n + j) = sv;
        *reinterpret_cast<float4*>(h + r * n + j) = hv;
      }
    } else {
      for (std::size_t j = lane; j < n; j += 32) {
        float sv, hv;
        modulate_one(a, zr[j], mean, g ? g[j] : 1.0f, b ? b[j] : 0.0f, sv, hv);
        if (write_saved) saved[r * n + j] = sv;
        h[r * n + j] = hv;
      }
    }
  }
}

// The backward of one element: the gradient reaching the gain's product (through_gain: the gain
// and bias gradients are sums of through_gain * saved and through_gain) and at u (du).
__device__ __forceinline__ void modulate_backward_one(const ModulationLaunch& a, float dh,
                                                      const float* h, const float* saved,
                                                      std::size_t e, float gain,
                                                      float& through_gain, float& du) {
  // Each site reads only what its derivative needs (h or saved): these kernels are memory-bound.
  if (a.site == ModulationSite::kPreActivation) {
    through_gain = dh * cell::slope(a.activation, h[e]);
    du = through_gain * gain;
  } else {
    through_gain = dh;
    du = dh * gain * cell::slope(a.activation, saved[e]);
  }
}

__global__ void modulate_backward_kernel(ModulationLaunch a, const float* saved, const float* h,
                                         const float* dh, float* dz, float* gain_terms,
                                         float* bias_terms) {
  const std::size_t n = a.units;
  for (std::size_t r = blockIdx.x; r < a.rows; r += gridDim.x) {
    const std::size_t c = std::size_t(a.row_context[r]);
    const float* g = a.gain ? a.gain + c * n : nullptr;
    double partial = 0.0;
    for (std::size_t j = threadIdx.x; j < n; j += blockDim.x) {
      const std::size_t e = r * n + j;
      float through_gain, du;
      modulate_backward_one(a, dh[e], h, saved, e, g ? g[j] : 1.0f, through_gain, du);
      if (gain_terms) gain_terms[e] = through_gain * saved[e];
      if (bias_terms) bias_terms[e] = through_gain;
      dz[e] = du;
      partial += du;
    }
    if (a.center) {
      const float mean = static_cast<float>(block_sum(partial) / double(n));
      for (std::size_t j = threadIdx.x; j < n; j += blockDim.x) dz[r * n + j] -= mean;
    }
  }
}

// One block per chunk of rows of one context; each thread keeps the sums of its own units in
// shared memory (2 * units floats), so no two threads touch the same sum and no barrier is needed
// between rows except centering's reduction.
__global__ void modulate_backward_fused_kernel(ModulationLaunch a, RowGroups groups,
                                               std::size_t tile, const float* saved, const float* h,
                                               const float* dh, float* dz, float* gain_partial,
                                               float* bias_partial) {
  extern __shared__ float sums[];  // (2, tile): gain terms, bias terms
  const std::size_t n = a.units;
  // Units [first, last) of this block: the whole row (tile == n) when centering's mean feeds dz.
  const std::size_t first = blockIdx.y * tile;
  const std::size_t last = first + tile < n ? first + tile : n;
  const std::int32_t* chunk = groups.chunks + 3 * blockIdx.x;
  for (std::size_t j = first + threadIdx.x; j < last; j += blockDim.x) {
    sums[j - first] = 0.0f;
    sums[tile + j - first] = 0.0f;
  }
  for (int p = chunk[1]; p < chunk[2]; ++p) {
    const std::size_t r = std::size_t(groups.order[p]);
    const std::size_t c = std::size_t(a.row_context[r]);
    const float* g = a.gain ? a.gain + c * n : nullptr;
    double partial = 0.0;
    for (std::size_t j = first + threadIdx.x; j < last; j += blockDim.x) {
      const std::size_t e = r * n + j;
      float through_gain, du;
      modulate_backward_one(a, dh[e], h, saved, e, g ? g[j] : 1.0f, through_gain, du);
      sums[j - first] += through_gain * saved[e];
      sums[tile + j - first] += through_gain;
      if (dz) dz[e] = du;
      partial += du;
    }
    if (dz && a.center) {
      const float mean = static_cast<float>(block_sum(partial) / double(n));
      for (std::size_t j = threadIdx.x; j < n; j += blockDim.x) dz[r * n + j] -= mean;
    }
  }
  for (std::size_t j = first + threadIdx.x; j < last; j += blockDim.x) {
    if (gain_partial) gain_partial[std::size_t(blockIdx.x) * n + j] = sums[j - first];
    if (bias_partial) bias_partial[std::size_t(blockIdx.x) * n + j] = sums[tile + j - first];
  }
}

// Stage 1 of reduce_rows: one chunk of rows per blockIdx.y, units across x.
__global__ void reduce_chunks_kernel(RowGroups groups, const float* terms, std::size_t width,
                                     float* partial) {
  const std::size_t u = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
  if (u >= width) return;
  const std::int32_t* chunk = groups.chunks + 3 * blockIdx.y;
  float sum = 0.0f;
  for (int p = chunk[1]; p < chunk[2]; ++p) sum += terms[std::size_t(groups.order[p]) * width + u];
  partial[std::size_t(blockIdx.y) * width + u] = sum;
}

// Stage 2: the chunks of one group, in order, added to the target's gradient.
__global__ void reduce_groups_kernel(RowGroups groups, const float* partial, std::size_t width,
                                     float* grad) {
  const std::size_t u = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
  if (u >= width) return;
  const std::int32_t* group = groups.groups + 3 * blockIdx.y;
  float sum = 0.0f;
  for (int c = group[1]; c < group[2]; ++c) sum += partial[std::size_t(c) * width + u];
  grad[std::size_t(group[0]) * width + u] += sum;
}

__global__ void head_output_kernel(std::size_t rows, std::size_t units,
                                   const std::int32_t* row_context, const float* lin,
                                   const float* output_gain, const float* bias,
                                   bool bias_per_context, float* y) {
  const std::size_t n = rows * units;
  for (std::size_t e = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; e < n;
       e += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t r = e / units, j = e % units;
    const std::size_t c = std::size_t(row_context[r]);
    const float s = output_gain ? output_gain[c] : 1.0f;
    const float b = bias ? bias[(bias_per_context ? c * units : 0) + j] : 0.0f;
    y[e] = s * lin[e] + b;
  }
}

// One warp per (row, unit).
__global__ void context_readout_forward_kernel(std::size_t rows, std::size_t units,
                                               std::size_t features,
                                               const std::int32_t* row_context, const float* x,
                                               const float* weight, float scale, float* lin) {
  const std::size_t warps = rows * units;
  const std::size_t lane = threadIdx.x % 32;
  for (std::size_t w = (blockIdx.x * std::size_t(blockDim.x) + threadIdx.x) / 32; w < warps;
       w += std::size_t(gridDim.x) * blockDim.x / 32) {
    const std::size_t r = w / units, j = w % units;
    const float* wj = weight + (std::size_t(row_context[r]) * units + j) * features;
    const float* xr = x + r * features;
    float sum = 0.0f;
    for (std::size_t k = lane; k < features; k += 32) sum += xr[k] * wj[k];
    sum = warp_sum(sum);
    if (lane == 0) lin[w] = scale * sum;
  }
}

__global__ void head_backward_terms_kernel(std::size_t rows, std::size_t units,
                                           const std::int32_t* row_context, const float* dy,
                                           const float* lin, const float* output_gain, float* dr,
                                           float* dot) {
  for (std::size_t r = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; r < rows;
       r += std::size_t(gridDim.x) * blockDim.x) {
    const float s = output_gain ? output_gain[row_context[r]] : 1.0f;
    float d = 0.0f;
    for (std::size_t j = 0; j < units; ++j) {
      const float g = dy[r * units + j];
      dr[r * units + j] = s * g;
      d += g * lin[r * units + j];
    }
    if (dot) dot[r] = d;
  }
}

__global__ void context_readout_backward_input_kernel(std::size_t rows, std::size_t units,
                                                      std::size_t features,
                                                      const std::int32_t* row_context,
                                                      const float* dr, const float* weight,
                                                      float scale, float* dfeatures) {
  const std::size_t n = rows * features;
  for (std::size_t e = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; e < n;
       e += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t r = e / features, k = e % features;
    const float* w = weight + std::size_t(row_context[r]) * units * features + k;
    float sum = 0.0f;
    for (std::size_t j = 0; j < units; ++j) sum += dr[r * units + j] * w[j * features];
    dfeatures[e] += scale * sum;
  }
}

// Features across x, one unit per blockIdx.y, one group per blockIdx.z.
__global__ void context_readout_backward_weight_kernel(RowGroups groups, std::size_t units,
                                                       std::size_t features, const float* dr,
                                                       const float* x, float scale,
                                                       float* dweight) {
  const std::size_t k = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x;
  if (k >= features) return;
  const std::size_t j = blockIdx.y;
  const std::int32_t* group = groups.groups + 3 * blockIdx.z;
  float sum = 0.0f;
  for (int c = group[1]; c < group[2]; ++c) {
    const std::int32_t* chunk = groups.chunks + 3 * c;
    for (int p = chunk[1]; p < chunk[2]; ++p) {
      const std::size_t r = std::size_t(groups.order[p]);
      sum += dr[r * units + j] * x[r * features + k];
    }
  }
  dweight[(std::size_t(group[0]) * units + j) * features + k] += scale * sum;
}

// One warp per row.
__global__ void cross_entropy_kernel(std::size_t rows, std::size_t classes, const float* logits,
                                     const std::int32_t* labels, float* gradient, float* row_loss,
                                     float* row_entropy, int* bad_label) {
  const std::size_t lane = threadIdx.x % 32;
  for (std::size_t r = (blockIdx.x * std::size_t(blockDim.x) + threadIdx.x) / 32; r < rows;
       r += std::size_t(gridDim.x) * blockDim.x / 32) {
    const float* z = logits + r * classes;
    float top = -INFINITY;
    for (std::size_t j = lane; j < classes; j += 32) top = fmaxf(top, z[j]);
    for (int offset = 16; offset > 0; offset /= 2) {
      top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, offset));
    }
    float total = 0.0f, weighted = 0.0f;
    for (std::size_t j = lane; j < classes; j += 32) {
      const float e = expf(z[j] - top);
      total += e;
      weighted += e * (z[j] - top);
    }
    total = warp_sum(total);
    weighted = warp_sum(weighted);
    const float log_total = logf(total);
    const std::int32_t label = labels[r];
    const bool valid = label >= 0 && std::size_t(label) < classes;
    if (!valid && lane == 0) *bad_label = 1;
    const float inverse_rows = 1.0f / float(rows);
    for (std::size_t j = lane; j < classes; j += 32) {
      const float p = expf(z[j] - top - log_total);
      gradient[r * classes + j] = (p - (std::int32_t(j) == label ? 1.0f : 0.0f)) * inverse_rows;
    }
    if (lane == 0) {
      row_loss[r] = valid ? log_total - (z[label] - top) : 0.0f;
      row_entropy[r] = log_total - weighted / total;  // -sum p log p
    }
  }
}

__global__ void mean_pair_kernel(const float* a, const float* b, std::size_t n, double* totals) {
  double sa = 0.0, sb = 0.0;
  for (std::size_t i = threadIdx.x; i < n; i += blockDim.x) {
    sa += a[i];
    sb += b[i];
  }
  sa = block_sum(sa);
  sb = block_sum(sb);
  if (threadIdx.x == 0) {
    totals[0] = sa / double(n);
    totals[1] = sb / double(n);
  }
}

__global__ void flag_non_finite_kernel(const float* data, std::size_t n, int* flag) {
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < n;
       i += std::size_t(gridDim.x) * blockDim.x) {
    if (!isfinite(data[i])) *flag = 1;  // every writer writes 1: no ordering matters
  }
}

__global__ void gradient_square_sums_kernel(const float* grad, std::size_t width,
                                            const std::int32_t* instances, double* partial) {
  const std::size_t begin = std::size_t(blockIdx.x) * kNormChunk;
  const std::size_t end = begin + kNormChunk < width ? begin + kNormChunk : width;
  const float* g = grad + std::size_t(instances[blockIdx.y]) * width;
  double sum = 0.0;
  for (std::size_t i = begin + threadIdx.x; i < end; i += blockDim.x) sum += double(g[i]) * g[i];
  sum = block_sum(sum);
  if (threadIdx.x == 0) partial[std::size_t(blockIdx.y) * gridDim.x + blockIdx.x] = sum;
}

__global__ void finish_norm_kernel(const double* partial, std::size_t count, float clip_norm,
                                   double* scalars) {
  double sum = 0.0;
  for (std::size_t i = threadIdx.x; i < count; i += blockDim.x) sum += partial[i];
  sum = block_sum(sum);
  if (threadIdx.x == 0) {
    const double norm = sqrt(sum);
    scalars[0] = norm;
    scalars[1] = (clip_norm <= 0.0f || norm <= clip_norm)
                     ? 1.0
                     : double(static_cast<float>(double(clip_norm) / (norm + 1e-6)));
  }
}

// The rules of optimizer.cpp's apply_update, element by element.
__global__ void apply_updates_kernel(UpdateRule rule, float* value, const float* grad, float* first,
                                     float* second, std::size_t width,
                                     const std::int32_t* instances, const std::int64_t* steps,
                                     const double* scalars, int* flag) {
  const std::size_t offset = std::size_t(instances[blockIdx.y]) * width;
  const std::int64_t step = steps[blockIdx.y];
  const float scale = static_cast<float>(scalars[1]);
  const float lr = rule.learning_rate, wd = rule.weight_decay;
  const bool coupled_decay = wd > 0.0f && !rule.decoupled_decay;
  float step_size = lr, root_correction2 = 1.0f;
  if (rule.kind == 2) {  // Adam's bias corrections
    step_size = static_cast<float>(lr / (1.0 - pow(double(rule.beta1), double(step))));
    root_correction2 = static_cast<float>(sqrt(1.0 - pow(double(rule.beta2), double(step))));
  }
  for (std::size_t i = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; i < width;
       i += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t e = offset + i;
    float v = value[e];
    if (wd > 0.0f && rule.decoupled_decay) v *= 1.0f - lr * wd;
    float g = grad[e] * scale;
    if (rule.clip_value > 0.0f) g = fminf(fmaxf(g, -rule.clip_value), rule.clip_value);
    if (coupled_decay) g += wd * v;
    switch (rule.kind) {
      case 0:  // SGD
        v -= lr * g;
        break;
      case 1: {  // momentum
        const float m = step == 1 ? g : rule.momentum * first[e] + g;
        first[e] = m;
        v -= lr * (rule.nesterov ? g + rule.momentum * m : m);
        break;
      }
      case 2: {  // Adam
        const float m = rule.beta1 * first[e] + (1.0f - rule.beta1) * g;
        const float s = rule.beta2 * second[e] + (1.0f - rule.beta2) * g * g;
        first[e] = m;
        second[e] = s;
        v -= step_size * m / (sqrtf(s) / root_correction2 + rule.epsilon);
        break;
      }
      case 3: {  // RMSprop
        const float s = rule.rms_alpha * first[e] + (1.0f - rule.rms_alpha) * g * g;
        first[e] = s;
        v -= lr * g / (sqrtf(s) + rule.epsilon);
        break;
      }
    }
    value[e] = v;
    if (!isfinite(v)) *flag = 1;
  }
}

// One thread per element of the moved (rows, cols) block; `order` is a permutation of the rows, so
// no two threads write one element.
__global__ void gather_rows_kernel(const std::int32_t* order, std::size_t rows, std::size_t cols,
                                   const float* src, float* dst) {
  for (std::size_t e = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; e < rows * cols;
       e += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t i = e / cols, k = e % cols;
    dst[e] = src[std::size_t(order[i]) * cols + k];
  }
}

__global__ void scatter_rows_kernel(const std::int32_t* order, std::size_t rows, std::size_t cols,
                                    const float* src, float* dst) {
  for (std::size_t e = blockIdx.x * std::size_t(blockDim.x) + threadIdx.x; e < rows * cols;
       e += std::size_t(gridDim.x) * blockDim.x) {
    const std::size_t i = e / cols, k = e % cols;
    dst[std::size_t(order[i]) * cols + k] = src[e];
  }
}

}  // namespace

void sparse_forward(cudaStream_t stream, const float* x, std::size_t rows, std::size_t in,
                    const std::int32_t* index, const float* value, std::size_t out, std::size_t k,
                    float scale, float* z) {
  require(k > 0 && k <= in, "sparse_forward: k must be in [1, inputs]");
  sparse_forward_kernel<<<blocks_for(rows * out), kThreads, 0, stream>>>(x, rows, in, index, value,
                                                                         out, k, scale, z);
  LOCUS_CUDA_CHECK_LAUNCH(sparse_forward_kernel);
}

void sparse_backward_input(cudaStream_t stream, const float* dz, std::size_t rows, std::size_t out,
                           const std::int32_t* input_begin, const std::int32_t* entries,
                           const float* value, std::size_t k, std::size_t in, float scale,
                           float* dx, bool accumulate) {
  sparse_backward_input_kernel<<<blocks_for(rows * in), kThreads, 0, stream>>>(
      dz, rows, out, input_begin, entries, value, k, in, scale, dx, accumulate);
  LOCUS_CUDA_CHECK_LAUNCH(sparse_backward_input_kernel);
}

void sparse_backward_weight(cudaStream_t stream, const float* dz, std::size_t rows, std::size_t out,
                            const std::int32_t* index, std::size_t k, const float* x,
                            std::size_t in, float scale, float* dvalue) {
  sparse_backward_weight_kernel<<<blocks_for(out * k), kThreads, 0, stream>>>(
      dz, rows, out, index, k, x, in, scale, dvalue);
  LOCUS_CUDA_CHECK_LAUNCH(sparse_backward_weight_kernel);
}

void modulate_forward(cudaStream_t stream, const ModulationLaunch& args, const float* z,
                      float* saved, float* h) {
  require(args.units > 0, "modulate_forward: a layer needs units");
  const int blocks = blocks_for(args.rows * 32);
  // 16-byte accesses need rows of a multiple of 4 floats (cudaMalloc aligns the buffers).
  if (args.units % 4 == 0) {
    modulate_forward_kernel<true><<<blocks, kThreads, 0, stream>>>(args, z, saved, h);
  } else {
    modulate_forward_kernel<false><<<blocks, kThreads, 0, stream>>>(args, z, saved, h);
  }
  LOCUS_CUDA_CHECK_LAUNCH(modulate_forward_kernel);
}

void modulate_backward(cudaStream_t stream, const ModulationLaunch& args, const float* saved,
                       const float* h, const float* dh, float* dz, float* gain_terms,
                       float* bias_terms) {
  const int blocks = static_cast<int>(args.rows < 262140 ? args.rows : 262140);
  modulate_backward_kernel<<<blocks, kThreads, 0, stream>>>(args, saved, h, dh, dz, gain_terms,
                                                            bias_terms);
  LOCUS_CUDA_CHECK_LAUNCH(modulate_backward_kernel);
}

bool fused_modulate_backward_fits(std::size_t units, bool whole_rows) {
  // Whole rows keep 2 * units sums in the default 48 KiB of shared memory, beside block_sum's
  // static buffer.
  return !whole_rows || 2 * units * sizeof(float) + (kThreads / 32) * sizeof(double) <= 48 * 1024;
}

void modulate_backward_fused(cudaStream_t stream, const ModulationLaunch& args,
                             const RowGroups& groups, const float* saved, const float* h,
                             const float* dh, float* dz, float* gain_partial, float* bias_partial) {
  // Centering's mean needs the whole row in one block, but only when dz is written.
  const bool whole_rows = args.center && dz != nullptr;
  require(fused_modulate_backward_fits(args.units, whole_rows),
          "modulate_backward_fused: " + std::to_string(args.units) +
              " units need more shared memory "
              "than 48 KiB");
  require(groups.chunk_count > 0, "modulate_backward_fused: no rows");
  // A centered layer needs whole rows in one block; otherwise tiles of kThreads units multiply the
  // blocks (a batch of few chunks would leave most multiprocessors idle).
  const std::size_t tile = whole_rows ? args.units : std::size_t(kThreads);
  const dim3 grid(static_cast<unsigned>(groups.chunk_count),
                  static_cast<unsigned>((args.units + tile - 1) / tile));
  const std::size_t shared = 2 * tile * sizeof(float);
  modulate_backward_fused_kernel<<<grid, kThreads, shared, stream>>>(
      args, groups, tile, saved, h, dh, dz, gain_partial, bias_partial);
  LOCUS_CUDA_CHECK_LAUNCH(modulate_backward_fused_kernel);
}

void reduce_partials(cudaStream_t stream, const RowGroups& groups, const float* partial,
                     std::size_t width, float* grad) {
  const dim3 group_grid(blocks_for(width, 128), groups.group_count);
  reduce_groups_kernel<<<group_grid, 128, 0, stream>>>(groups, partial, width, grad);
  LOCUS_CUDA_CHECK_LAUNCH(reduce_groups_kernel);
}

void reduce_rows(cudaStream_t stream, const RowGroups& groups, const float* terms,
                 std::size_t width, float* partial, float* grad) {
  require(groups.chunk_count > 0 && groups.chunk_count < 65536 && groups.group_count < 65536,
          "reduce_rows: " + std::to_string(groups.chunk_count) + " chunks, " +
              std::to_string(groups.group_count) + " groups (at most 65535 each)");
  const dim3 chunk_grid(blocks_for(width, 128), groups.chunk_count);
  reduce_chunks_kernel<<<chunk_grid, 128, 0, stream>>>(groups, terms, width, partial);
  LOCUS_CUDA_CHECK_LAUNCH(reduce_chunks_kernel);
  reduce_partials(stream, groups, partial, width, grad);
}

void head_output(cudaStream_t stream, std::size_t rows, std::size_t units,
                 const std::int32_t* row_context, const float* lin, const float* output_gain,
                 const float* bias, bool bias_per_context, float* y) {
  head_output_kernel<<<blocks_for(rows * units), kThreads, 0, stream>>>(
      rows, units, row_context, lin, output_gain, bias, bias_per_context, y);
  LOCUS_CUDA_CHECK_LAUNCH(head_output_kernel);
}

void context_readout_forward(cudaStream_t stream, std::size_t rows, std::size_t units,
                             std::size_t features, const std::int32_t* row_context, const float* x,
                             const float* weight, float scale, float* lin) {
  context_readout_forward_kernel<<<blocks_for(rows * units * 32), kThreads, 0, stream>>>(
      rows, units, features, row_context, x, weight, scale, lin);
  LOCUS_CUDA_CHECK_LAUNCH(context_readout_forward_kernel);
}

void head_backward_terms(cudaStream_t stream, std::size_t rows, std::size_t units,
                         const std::int32_t* row_context, const float* dy, const float* lin,
                         const float* output_gain, float* dr, float* dot) {
  head_backward_terms_kernel<<<blocks_for(rows), kThreads, 0, stream>>>(
      rows, units, row_context, dy, lin, output_gain, dr, dot);
  LOCUS_CUDA_CHECK_LAUNCH(head_backward_terms_kernel);
}

void context_readout_backward_input(cudaStream_t stream, std::size_t rows, std::size_t units,
                                    std::size_t features, const std::int32_t* row_context,
                                    const float* dr, const float* weight, float scale,
                                    float* dfeatures) {
  context_readout_backward_input_kernel<<<blocks_for(rows * features), kThreads, 0, stream>>>(
      rows, units, features, row_context, dr, weight, scale, dfeatures);
  LOCUS_CUDA_CHECK_LAUNCH(context_readout_backward_input_kernel);
}

void context_readout_backward_weight(cudaStream_t stream, const RowGroups& groups,
                                     std::size_t units, std::size_t features, const float* dr,
                                     const float* x, float scale, float* dweight) {
  require(units < 65536 && groups.group_count < 65536,
          "context_readout_backward_weight: too many units or groups");
  const dim3 grid(blocks_for(features, 128), static_cast<unsigned>(units),
                  static_cast<unsigned>(groups.group_count));
  context_readout_backward_weight_kernel<<<grid, 128, 0, stream>>>(groups, units, features, dr, x,
                                                                   scale, dweight);
  LOCUS_CUDA_CHECK_LAUNCH(context_readout_backward_weight_kernel);
}

void cross_entropy(cudaStream_t stream, std::size_t rows, std::size_t classes, const float* logits,
                   const std::int32_t* labels, float* gradient, float* row_loss, float* row_entropy,
                   double* totals, int* bad_label) {
  require(rows > 0 && classes > 0, "cross_entropy: empty logits");
  cross_entropy_kernel<<<blocks_for(rows * 32), kThreads, 0, stream>>>(
      rows, classes, logits, labels, gradient, row_loss, row_entropy, bad_label);
  LOCUS_CUDA_CHECK_LAUNCH(cross_entropy_kernel);
  mean_pair_kernel<<<1, kThreads, 0, stream>>>(row_loss, row_entropy, rows, totals);
  LOCUS_CUDA_CHECK_LAUNCH(mean_pair_kernel);
}

void gather_rows(cudaStream_t stream, const std::int32_t* order, std::size_t rows, std::size_t cols,
                 const float* src, float* dst) {
  if (rows * cols == 0) return;
  gather_rows_kernel<<<blocks_for(rows * cols), kThreads, 0, stream>>>(order, rows, cols, src, dst);
  LOCUS_CUDA_CHECK_LAUNCH(gather_rows_kernel);
}

void scatter_rows(cudaStream_t stream, const std::int32_t* order, std::size_t rows,
                  std::size_t cols, const float* src, float* dst) {
  if (rows * cols == 0) return;
  scatter_rows_kernel<<<blocks_for(rows * cols), kThreads, 0, stream>>>(order, rows, cols, src,
                                                                        dst);
  LOCUS_CUDA_CHECK_LAUNCH(scatter_rows_kernel);
}

void flag_non_finite(cudaStream_t stream, const float* data, std::size_t n, int* flag) {
  if (n == 0) return;
  flag_non_finite_kernel<<<blocks_for(n) < 1024 ? blocks_for(n) : 1024, kThreads, 0, stream>>>(
      data, n, flag);
  LOCUS_CUDA_CHECK_LAUNCH(flag_non_finite_kernel);
}

std::size_t norm_chunks(std::size_t width) {
  return (width + kNormChunk - 1) / kNormChunk;
}

void gradient_square_sums(cudaStream_t stream, const float* grad, std::size_t width,
                          const std::int32_t* instances, int instance_count, double* partial) {
  require(instance_count > 0 && instance_count < 65536,
          "gradient_square_sums: instance count " + std::to_string(instance_count));
  const dim3 grid(static_cast<unsigned>(norm_chunks(width)), static_cast<unsigned>(instance_count));
  gradient_square_sums_kernel<<<grid, kThreads, 0, stream>>>(grad, width, instances, partial);
  LOCUS_CUDA_CHECK_LAUNCH(gradient_square_sums_kernel);
}

void finish_norm(cudaStream_t stream, const double* partial, std::size_t count, float clip_norm,
                 double* scalars) {
  finish_norm_kernel<<<1, kThreads, 0, stream>>>(partial, count, clip_norm, scalars);
  LOCUS_CUDA_CHECK_LAUNCH(finish_norm_kernel);
}

void apply_updates(cudaStream_t stream, const UpdateRule& rule, float* value, const float* grad,
                   float* first, float* second, std::size_t width, const std::int32_t* instances,
                   const std::int64_t* steps, int instance_count, const double* scalars,
                   int* flag) {
  require(instance_count > 0 && instance_count < 65536,
          "apply_updates: instance count " + std::to_string(instance_count));
  require(rule.kind >= 0 && rule.kind <= 3,
          "apply_updates: unknown optimizer kind " + std::to_string(rule.kind));
  const std::size_t x_blocks = (width + kThreads - 1) / kThreads;
  const dim3 grid(static_cast<unsigned>(x_blocks < 4096 ? x_blocks : 4096),
                  static_cast<unsigned>(instance_count));
  apply_updates_kernel<<<grid, kThreads, 0, stream>>>(rule, value, grad, first, second, width,
                                                      instances, steps, scalars, flag);
  LOCUS_CUDA_CHECK_LAUNCH(apply_updates_kernel);
}

}  // namespace locus::neuromod::cuda
