#pragma once
// The kernels of the host backends, behind one interface with two implementations:
//   cpu_kernels()        OpenBLAS sgemm and fused loops, parallel over fixed chunks with TBB
//   reference_kernels()  plain loops with double accumulation, the oracle the tests compare with
// HostNetwork composes them into forward and backward passes, so the same composition runs on
// both and a kernel can be tested alone at many shapes (tests/neuromod/test_kernels.cpp).
//
// Layout: every matrix is row-major and dense; (rows, cols) shapes are given in the comments.
// Determinism: the CPU kernels split work into chunks of fixed size (never by thread count) and
// reduce in a fixed order, so results are bit-identical for any number of TBB threads.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "neuromod/spec.hpp"

namespace locus::neuromod {

// The fused per-layer modulation: see spec.hpp for the formula.
struct ModulationArgs {
  std::size_t rows = 0;
  std::size_t units = 0;
  const std::int32_t* row_context = nullptr;  // (rows): context of each row
  const float* gain = nullptr;                // (contexts, units), or null (gain 1)
  const float* bias = nullptr;                // (contexts, units), or null (bias 0)
  bool center = false;
  Activation activation = Activation::kRelu;
  ModulationSite site = ModulationSite::kPreActivation;
};

// A fixed matrix B (depth, cols) rounded to bfloat16 and packed once for bf16_product (the fixed
// random weights of a network in MatmulPrecision::kBfloat16): panels of 16 columns, each holding
// its column pairs of consecutive depth entries, [panel][pair][16 columns][2], zero-padded. This is
// the operand layout of the AVX512-BF16 dot-product instruction, so the product loads it directly.
struct Bf16Panels {
  std::size_t depth = 0;  // the reduction length
  std::size_t cols = 0;
  std::size_t pairs = 0;   // (depth + 1) / 2
  std::size_t panels = 0;  // (cols + 15) / 16
  std::vector<std::uint16_t> data;
  // Element (r, n) as a float (bfloat16 widened).
  float at(std::size_t r, std::size_t n) const;
};
// Packs B(r, n) = source[n * col_stride + r * depth_stride], each value rounded to the nearest
// bfloat16 (ties to even, as the hardware conversion).
Bf16Panels pack_bf16_panels(const float* source, std::size_t depth, std::size_t cols,
                            std::size_t col_stride, std::size_t depth_stride);
// The float nearest to v among bfloat16 values (ties to even; NaN stays NaN; denormals become a
// signed zero, as in the hardware conversion).
float round_to_bf16(float v);
// True when this build has the CPU backend's bf16 kernel (GCC, x86-64) and the CPU has the
// AVX512-BF16 dot product it needs; otherwise the reason, for error messages.
bool cpu_supports_bf16_products();
std::string bf16_products_unavailable_reason();

class Kernels {
 public:
  virtual ~Kernels() = default;

  // z (rows, out) = scale * x (rows, in) . W^T, W (out, in)
  virtual void dense_forward(const float* x, std::size_t rows, std::size_t in, const float* weight,
                             std::size_t out, float scale, float* z) const = 0;
  // dx (rows, in) = scale * dz (rows, out) . W, or += when accumulate
  virtual void dense_backward_input(const float* dz, std::size_t rows, std::size_t out,
                                    const float* weight, std::size_t in, float scale, float* dx,
                                    bool accumulate) const = 0;
  // dW (out, in) += scale * dz^T . x
  virtual void dense_backward_weight(const float* dz, std::size_t rows, std::size_t out,
                                     const float* x, std::size_t in, float scale,
                                     float* dweight) const = 0;

  // c (rows, b.cols) = scale * a (rows, b.depth) . B, or += when accumulate; a is rounded to
  // bfloat16 and the products are summed in float32. The CPU version needs
  // cpu_supports_bf16_products(); the reference rounds the same way and sums in double.
  virtual void bf16_product(const float* a, std::size_t rows, const Bf16Panels& b, float scale,
                            float* c, bool accumulate) const = 0;

  // Sparse layer: unit j sums x[index[j*k + t]] * value[j*k + t] over t < k.
  // z (rows, out) = scale * sparse(x (rows, in))
  virtual void sparse_forward(const float* x, std::size_t rows, std::size_t in,
                              const std::int32_t* index, const float* value, std::size_t out,
                              std::size_t k, float scale, float* z) const = 0;
  // dx (rows, in) = scale * sparse^T(dz), or += when accumulate
  virtual void sparse_backward_input(const float* dz, std::size_t rows, std::size_t out,
                                     const std::int32_t* index, const float* value, std::size_t k,
                                     std::size_t in, float scale, float* dx,
                                     bool accumulate) const = 0;
  // dvalue (out, k) += scale * sum_rows dz[r, j] * x[r, index[j, t]]
  virtual void sparse_backward_weight(const float* dz, std::size_t rows, std::size_t out,
                                      const std::int32_t* index, std::size_t k, const float* x,
                                      std::size_t in, float scale, float* dvalue) const = 0;

  // In place on z (rows, units): centering, modulation and activation. Writes the output h and the
  // cache backward needs: `saved` = u (pre-activation site) or act(u) (post-activation site).
  virtual void modulate_forward(const ModulationArgs& args, const float* z, float* saved,
                                float* h) const = 0;
  // From dh (rows, units) computes dz (rows, units) (the gradient at the layer's linear output) and
  // accumulates dgain / dbias (contexts, units; either may be null) per row context.
  virtual void modulate_backward(const ModulationArgs& args, const float* saved, const float* h,
                                 const float* dh, float* dz, float* dgain, float* dbias) const = 0;
};

const Kernels& cpu_kernels();
const Kernels& reference_kernels();

}  // namespace locus::neuromod
