// The fast CPU kernels: OpenBLAS sgemm for the matrix products, fused single-pass loops for the
// modulation, TBB across fixed-size blocks.
//
// Why fixed blocks: results must not depend on the number of threads. Each block's work is a
// single-threaded call or loop with a fixed order, and the blocks never share an output element,
// so the partition (a function of the shapes only) fixes every rounding. OpenBLAS is therefore set
// to one thread (openblas_set_num_threads(1), once, process-wide): TBB supplies the parallelism,
// and OpenBLAS's own threads inside TBB's workers would oversubscribe the cores.

#include <cblas.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <vector>

#include "neuromod/bf16_tiles.hpp"
#include "neuromod/kernels.hpp"
#include "neuromod/multiversion.hpp"
#include "util/parallel.hpp"

#ifdef LOCUS_HAVE_OPENBLAS
extern "C" void openblas_set_num_threads(int num_threads);
#endif

namespace locus::neuromod {

namespace {

// GEMM blocks. sgemm packs both operands on every call, so the partition decides how often the
// weights (often the larger operand) are packed: a batch of up to 256 rows stays whole and its
// output columns are split in two (two tasks for two cores, the weights packed once in all); a
// larger batch is split into 256- or 512-row blocks. The partition is a function of the shape only,
// never of the thread count.
struct GemmBlocks {
  std::size_t rows, cols;
};
GemmBlocks gemm_blocks(std::size_t rows, std::size_t cols) {
  constexpr std::size_t kWholeBatch = 256, kMaxCols = 4096;
  if (rows <= kWholeBatch) {
    const std::size_t half = (cols + 1) / 2;
    return {rows, std::max<std::size_t>(16, (half + 15) / 16 * 16)};
  }
  return {rows >= 1024 ? std::size_t{512} : std::size_t{256}, std::min(cols, kMaxCols)};
}
// Weight-gradient GEMMs (dW = dz^T x) sum over the batch inside one call; their blocks split the
// weight matrix. Each block packs its columns of x (rows x up to 512) again, so a weight of many
// rows (a GRU's or LSTM's U: 3-4 x units, summed over steps x batch rows) takes blocks of up to 256
// rows, keeping at least 8 blocks for the cores: with 64-row blocks packing x took 8 % of an LSTM's
// training time. Up to 512 rows the blocks stay at 64.
std::size_t weight_row_block(std::size_t out) {
  return std::clamp<std::size_t>((out / 8 + 15) / 16 * 16, 64, 256);
}
constexpr std::size_t kWeightColBlock = 512;
constexpr std::size_t kRowBlock = 16;    // element-wise passes
constexpr std::size_t kUnitBlock = 128;  // per-context reductions (columns)

std::size_t blocks(std::size_t n, std::size_t block) {
  return (n + block - 1) / block;
}

// Runs body(r0, r1, c0, c1) over a fixed grid of (rows x cols) blocks.
template <typename Body>
void for_grid(std::size_t rows, std::size_t cols, std::size_t row_block, std::size_t col_block,
              const Body& body) {
  const std::size_t row_blocks = blocks(rows, row_block);
  const std::size_t col_blocks = blocks(cols, col_block);
  util::run_blocks(row_blocks * col_blocks, [&](std::size_t b) {
    const std::size_t r0 = (b / col_blocks) * row_block;
    const std::size_t c0 = (b % col_blocks) * col_block;
    body(r0, std::min(rows, r0 + row_block), c0, std::min(cols, c0 + col_block));
  });
}

void single_threaded_blas() {
#ifdef LOCUS_HAVE_OPENBLAS
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
#endif
}

int as_int(std::size_t n) {
  return static_cast<int>(n);
}

// The element-wise kernels are multiversioned (neuromod/multiversion.hpp).

// The modulation kernels are instantiated per activation and site, so the inner loops carry no
// branches and vectorize.
template <typename Body>
void dispatch(const ModulationArgs& a, const Body& body) {
  const bool pre = a.site == ModulationSite::kPreActivation;
  switch (a.activation) {
    case Activation::kIdentity:
      pre ? body.template operator()<Activation::kIdentity, true>()
          : body.template operator()<Activation::kIdentity, false>();
      break;
    case Activation::kRelu:
      pre ? body.template operator()<Activation::kRelu, true>()
          : body.template operator()<Activation::kRelu, false>();
      break;
    case Activation::kTanh:
      pre ? body.template operator()<Activation::kTanh, true>()
          : body.template operator()<Activation::kTanh, false>();
      break;
    case Activation::kSoftplus:
      pre ? body.template operator()<Activation::kSoftplus, true>()
          : body.template operator()<Activation::kSoftplus, false>();
      break;
  }
}

template <Activation A>
inline float act(float v) {
  if constexpr (A == Activation::kRelu) return v > 0.0f ? v : 0.0f;
  if constexpr (A == Activation::kTanh) return std::tanh(v);
  if constexpr (A == Activation::kSoftplus) return v > 20.0f ? v : std::log1p(std::exp(v));
  return v;
}

// The derivative from the activation's output.
template <Activation A>
inline float slope(float out) {
  if constexpr (A == Activation::kRelu) return static_cast<float>(out > 0.0f);
  if constexpr (A == Activation::kTanh) return 1.0f - out * out;
  if constexpr (A == Activation::kSoftplus) return -std::expm1(-out);  // sigmoid(v), from out
  return 1.0f;
}

// Mean of n floats, summed in double over 8 interleaved accumulators (a fixed order, so the same
// result on every run, and short dependency chains).
LOCUS_MULTIVERSION float row_mean(const float* v, std::size_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    for (std::size_t k = 0; k < 8; ++k) acc[k] += v[j + k];
  }
  for (; j < n; ++j) acc[j % 8] += v[j];
  const double sum =
      ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  return static_cast<float>(sum / double(n));
}

template <Activation A, bool kPre>
LOCUS_MULTIVERSION void modulate_row(const ModulationArgs& a, std::size_t r, const float* z,
                                     float* saved, float* h) {
  const std::size_t n = a.units;
  const std::size_t c = std::size_t(a.row_context[r]);
  const float* zr = z + r * n;
  float* sr = saved + r * n;
  float* hr = h + r * n;
  const float mean = a.center ? row_mean(zr, n) : 0.0f;
  const float* g = a.gain ? a.gain + c * n : nullptr;
  const float* bias = a.bias ? a.bias + c * n : nullptr;
  if constexpr (kPre) {
    for (std::size_t j = 0; j < n; ++j) sr[j] = zr[j] - mean;
    if (g && bias) {
      for (std::size_t j = 0; j < n; ++j) hr[j] = act<A>(g[j] * sr[j] + bias[j]);
    } else if (g) {
      for (std::size_t j = 0; j < n; ++j) hr[j] = act<A>(g[j] * sr[j]);
    } else if (bias) {
      for (std::size_t j = 0; j < n; ++j) hr[j] = act<A>(sr[j] + bias[j]);
    } else {
      for (std::size_t j = 0; j < n; ++j) hr[j] = act<A>(sr[j]);
    }
  } else {
    for (std::size_t j = 0; j < n; ++j) sr[j] = act<A>(zr[j] - mean);
    if (g && bias) {
      for (std::size_t j = 0; j < n; ++j) hr[j] = g[j] * sr[j] + bias[j];
    } else if (g) {
      for (std::size_t j = 0; j < n; ++j) hr[j] = g[j] * sr[j];
    } else if (bias) {
      for (std::size_t j = 0; j < n; ++j) hr[j] = sr[j] + bias[j];
    } else {
      for (std::size_t j = 0; j < n; ++j) hr[j] = sr[j];
    }
  }
}

// backward_span's loop when the gain learns, and the bias too (kBias). The pointers are parameters
// so that `__restrict` lets the compiler vectorize it.
template <Activation A, bool kPre, bool kBias>
LOCUS_MULTIVERSION void backward_gain(std::size_t j0, std::size_t j1, const float* __restrict d,
                                      const float* __restrict out, const float* __restrict sv,
                                      const float* __restrict g, float* __restrict dz,
                                      float* __restrict dg, float* __restrict db) {
  for (std::size_t j = j0; j < j1; ++j) {
    const float through_gain = kPre ? d[j] * slope<A>(out[j]) : d[j];
    dz[j] = kPre ? through_gain * g[j] : d[j] * g[j] * slope<A>(sv[j]);
    dg[j] += through_gain * sv[j];
    if constexpr (kBias) db[j] += through_gain;
  }
}

// sparse_forward on a block of up to kSparseRows rows whose inputs are transposed (input i of the
// block's rows at transposed[i * kSparseRows ...]), units outer: each unit's indices and values
// are loaded once per block, and its sum runs over the block's rows in one vector (GCC's vector
// extension: one AVX-512 register, two AVX2 ones). Each row's sum still adds its k products in
// order, with no fused multiply-add, so the result is the row-by-row loop's, bit for bit.
constexpr std::size_t kSparseRows = 16;
using SparseLanes = float __attribute__((vector_size(kSparseRows * sizeof(float))));
LOCUS_MULTIVERSION void sparse_forward_rows(const float* __restrict transposed,
                                            const std::int32_t* __restrict index,
                                            const float* __restrict value, std::size_t out,
                                            std::size_t k, float scale, std::size_t rows,
                                            float* __restrict z) {
  for (std::size_t j = 0; j < out; ++j) {
    SparseLanes sum = {};
    for (std::size_t t = 0; t < k; ++t) {
      SparseLanes column;
      std::memcpy(&column, transposed + std::size_t(index[j * k + t]) * kSparseRows, sizeof column);
      sum += column * value[j * k + t];
    }
    float lanes[kSparseRows];
    std::memcpy(lanes, &sum, sizeof lanes);
    for (std::size_t q = 0; q < rows; ++q) z[q * out + j] = scale * lanes[q];
  }
}

// backward_span's loop when nothing modulates the layer (no gain, nothing learned here: the plain
// MLP's activation), so that it vectorizes too.
template <Activation A, bool kPre>
LOCUS_MULTIVERSION void backward_plain(std::size_t j0, std::size_t j1, const float* __restrict d,
                                       const float* __restrict out, const float* __restrict sv,
                                       float* __restrict dz) {
  for (std::size_t j = j0; j < j1; ++j)
    dz[j] = kPre ? d[j] * slope<A>(out[j]) : d[j] * slope<A>(sv[j]);
}

// One row's backward over units [j0, j1): writes dz (before centering) and adds the row's
// contribution to its context's gain and bias gradients (either may be null). The gradient reaching
// the gain's product is dv = dh * act'(v) before the activation, dh after it.
template <Activation A, bool kPre>
void backward_span(const ModulationArgs& a, std::size_t r, std::size_t j0, std::size_t j1,
                   const float* __restrict saved, const float* __restrict h,
                   const float* __restrict dh, float* __restrict dz, float* __restrict dgain,
                   float* __restrict dbias) {
  const std::size_t n = a.units;
  const std::size_t c = std::size_t(a.row_context[r]);
  const std::size_t row = r * n;
  const float* __restrict g = a.gain ? a.gain + c * n : nullptr;
  float* __restrict dg = dgain ? dgain + c * n : nullptr;
  float* __restrict db = dbias ? dbias + c * n : nullptr;
  const float* __restrict d = dh + row;
  const float* __restrict out = h + row;
  const float* __restrict sv = saved + row;
  float* __restrict dzr = dz + row;
  // The common cases (the gain learned, with or without the bias; nothing modulated) get their
  // own loops so that they vectorize.
  if (g && dg) {
    if (db) {
      backward_gain<A, kPre, true>(j0, j1, d, out, sv, g, dzr, dg, db);
    } else {
      backward_gain<A, kPre, false>(j0, j1, d, out, sv, g, dzr, dg, nullptr);
    }
    return;
  }
  if (!g && !dg && !db) {
    backward_plain<A, kPre>(j0, j1, d, out, sv, dzr);
    return;
  }
  for (std::size_t j = j0; j < j1; ++j) {
    const float through_gain = kPre ? d[j] * slope<A>(out[j]) : d[j];
    const float gj = g ? g[j] : 1.0f;
    dzr[j] = kPre ? through_gain * gj : d[j] * gj * slope<A>(sv[j]);
    if (dg) dg[j] += through_gain * sv[j];
    if (db) db[j] += through_gain;
  }
}

class CpuKernels final : public Kernels {
 public:
  CpuKernels() { single_threaded_blas(); }

  void dense_forward(const float* x, std::size_t rows, std::size_t in, const float* weight,
                     std::size_t out, float scale, float* z) const override {
    const GemmBlocks grid = gemm_blocks(rows, out);
    for_grid(rows, out, grid.rows, grid.cols,
             [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
               cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, as_int(r1 - r0),
                           as_int(c1 - c0), as_int(in), scale, x + r0 * in, as_int(in),
                           weight + c0 * in, as_int(in), 0.0f, z + r0 * out + c0, as_int(out));
             });
  }

  void dense_backward_input(const float* dz, std::size_t rows, std::size_t out, const float* weight,
                            std::size_t in, float scale, float* dx,
                            bool accumulate) const override {
    const GemmBlocks grid = gemm_blocks(rows, in);
    for_grid(rows, in, grid.rows, grid.cols,
             [&](std::size_t r0, std::size_t r1, std::size_t c0, std::size_t c1) {
               cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, as_int(r1 - r0),
                           as_int(c1 - c0), as_int(out), scale, dz + r0 * out, as_int(out),
                           weight + c0, as_int(in), accumulate ? 1.0f : 0.0f, dx + r0 * in + c0,
                           as_int(in));
             });
  }

  void dense_backward_weight(const float* dz, std::size_t rows, std::size_t out, const float* x,
                             std::size_t in, float scale, float* dweight) const override {
    // Blocks of dW; each sums over all rows of the batch in one call, so the order is fixed.
    for_grid(out, in, weight_row_block(out), kWeightColBlock,
             [&](std::size_t j0, std::size_t j1, std::size_t i0, std::size_t i1) {
               cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, as_int(j1 - j0),
                           as_int(i1 - i0), as_int(rows), scale, dz + j0, as_int(out), x + i0,
                           as_int(in), 1.0f, dweight + j0 * in + i0, as_int(in));
             });
  }

  void bf16_product(const float* a, std::size_t rows, const Bf16Panels& b, float scale, float* c,
                    bool accumulate) const override {
    // The rows are converted once into the calling thread's scratch (reused across calls), then
    // tiles of 64 rows x 48 columns run as tasks; every output element is one dot product in a
    // fixed order, so the partition cannot change a result. The isolation keeps this thread, while
    // it waits for the tiles, from picking up an outer task (another network's product in a
    // parallel run of agents) that would overwrite the scratch the tiles are reading.
    constexpr std::size_t kTileRows = 64, kTilePanels = 3;
    thread_local std::vector<std::uint32_t> converted;
    // Kept at the size of the batches this thread runs: a batch needing under a quarter of a large
    // scratch (over 64 MiB) gets a fresh one, so one huge evaluation batch does not hold its copy
    // of the activations for the rest of the run.
    const std::size_t need = rows * b.pairs;
    constexpr std::size_t kLargeScratch = (std::size_t{64} << 20) / sizeof(std::uint32_t);
    if (converted.size() < need ||
        (converted.size() > kLargeScratch && converted.size() / 4 > need)) {
      converted = std::vector<std::uint32_t>(need);
    }
    std::uint32_t* pairs = converted.data();
    const std::size_t row_blocks = blocks(rows, kTileRows);
    tbb::this_task_arena::isolate([&] {
      util::run_blocks(row_blocks, [&](std::size_t blk) {
        const std::size_t r0 = blk * kTileRows, r1 = std::min(rows, r0 + kTileRows);
        bf16::convert_rows(a + r0 * b.depth, r1 - r0, b.depth, pairs + r0 * b.pairs);
      });
      // Consecutive tasks share their weight panels (kept in L2) and walk the rows.
      util::run_blocks(row_blocks * blocks(b.panels, kTilePanels), [&](std::size_t task) {
        const std::size_t r0 = (task % row_blocks) * kTileRows;
        const std::size_t r1 = std::min(rows, r0 + kTileRows);
        const std::size_t p0 = (task / row_blocks) * kTilePanels;
        bf16::multiply_tile(pairs + r0 * b.pairs, r1 - r0, b, p0,
                            std::min(b.panels, p0 + kTilePanels), scale, c + r0 * b.cols, b.cols,
                            accumulate);
      });
    });
  }

  void sparse_forward(const float* x, std::size_t rows, std::size_t in, const std::int32_t* index,
                      const float* value, std::size_t out, std::size_t k, float scale,
                      float* z) const override {
    util::run_blocks(blocks(rows, kSparseRows), [&](std::size_t b) {
      const std::size_t r0 = b * kSparseRows, r1 = std::min(rows, r0 + kSparseRows);
      // One buffer per thread, kept between calls: no allocation per block. The lanes past a
      // short block's rows hold earlier inputs (or zeros), whose sums are never written.
      thread_local std::vector<float> transposed;
      if (transposed.size() < in * kSparseRows) transposed.resize(in * kSparseRows, 0.0f);
      for (std::size_t r = r0; r < r1; ++r) {
        for (std::size_t i = 0; i < in; ++i) transposed[i * kSparseRows + (r - r0)] = x[r * in + i];
      }
      sparse_forward_rows(transposed.data(), index, value, out, k, scale, r1 - r0, z + r0 * out);
    });
  }

  void sparse_backward_input(const float* dz, std::size_t rows, std::size_t out,
                             const std::int32_t* index, const float* value, std::size_t k,
                             std::size_t in, float scale, float* dx,
                             bool accumulate) const override {
    // Scatter within one row: rows are independent, so row blocks never share an output.
    util::run_blocks(blocks(rows, kRowBlock), [&](std::size_t b) {
      const std::size_t r1 = std::min(rows, (b + 1) * kRowBlock);
      for (std::size_t r = b * kRowBlock; r < r1; ++r) {
        float* dxr = dx + r * in;
        if (!accumulate) std::fill(dxr, dxr + in, 0.0f);
        const float* dzr = dz + r * out;
        for (std::size_t j = 0; j < out; ++j) {
          const float d = scale * dzr[j];
          if (d == 0.0f) continue;
          for (std::size_t t = 0; t < k; ++t) dxr[index[j * k + t]] += d * value[j * k + t];
        }
      }
    });
  }

  void sparse_backward_weight(const float* dz, std::size_t rows, std::size_t out,
                              const std::int32_t* index, std::size_t k, const float* x,
                              std::size_t in, float scale, float* dvalue) const override {
    util::run_blocks(blocks(out, kUnitBlock), [&](std::size_t b) {
      const std::size_t j0 = b * kUnitBlock, j1 = std::min(out, j0 + kUnitBlock);
      for (std::size_t r = 0; r < rows; ++r) {
        const float* xr = x + r * in;
        const float* dzr = dz + r * out;
        for (std::size_t j = j0; j < j1; ++j) {
          const float d = scale * dzr[j];
          for (std::size_t t = 0; t < k; ++t) dvalue[j * k + t] += d * xr[index[j * k + t]];
        }
      }
    });
  }

  void modulate_forward(const ModulationArgs& a, const float* z, float* saved,
                        float* h) const override {
    dispatch(a, [&]<Activation A, bool kPre>() {
      util::run_blocks(blocks(a.rows, kRowBlock), [&](std::size_t b) {
        const std::size_t r1 = std::min(a.rows, (b + 1) * kRowBlock);
        for (std::size_t r = b * kRowBlock; r < r1; ++r) modulate_row<A, kPre>(a, r, z, saved, h);
      });
    });
  }

  void modulate_backward(const ModulationArgs& a, const float* saved, const float* h,
                         const float* dh, float* dz, float* dgain, float* dbias) const override {
    dispatch(a, [&]<Activation A, bool kPre>() {
      // One pass in blocks of units, each walking the rows in order: the per-context sums then have
      // a fixed order, and dz is written in the same pass.
      util::run_blocks(blocks(a.units, kUnitBlock), [&](std::size_t b) {
        const std::size_t j0 = b * kUnitBlock, j1 = std::min(a.units, j0 + kUnitBlock);
        for (std::size_t r = 0; r < a.rows; ++r) {
          backward_span<A, kPre>(a, r, j0, j1, saved, h, dh, dz, dgain, dbias);
        }
      });
      if (a.center) {
        util::run_blocks(blocks(a.rows, kRowBlock), [&](std::size_t b) {
          const std::size_t r1 = std::min(a.rows, (b + 1) * kRowBlock);
          for (std::size_t r = b * kRowBlock; r < r1; ++r) {
            float* dzr = dz + r * a.units;
            const float mean = row_mean(dzr, a.units);
            for (std::size_t j = 0; j < a.units; ++j) dzr[j] -= mean;
          }
        });
      }
    });
  }
};

}  // namespace

const Kernels& cpu_kernels() {
  static const CpuKernels kernels;
  return kernels;
}

}  // namespace locus::neuromod
