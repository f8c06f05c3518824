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
