// bfloat16 products for the fixed weights (MatmulPrecision::kBfloat16): packing, rounding and the
// AVX512-BF16 tile kernel.
//
// Why: at the shapes locus trains (784-400-400-10, batch 128 to 1024) float32 sgemm already runs at
// ~90 % of one core's FMA peak, so float32 cannot go much faster. VDPBF16PS multiplies pairs of
// bfloat16 values and adds both products to a float32 lane, doing twice the work of an FMA per
// instruction. The fixed random weights never change, so they are rounded and packed once (into
// the instruction's operand layout); only the activations are converted per call.
//
// The kernel is compiled for AVX512-BF16 through a target attribute and chosen at run time, so the
// build stays portable; on a CPU without the instruction the network refuses the precision with a
// clear message (Network::set_matmul_precision) instead of running an emulation of it.

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>
#include <string>

#include "neuromod/bf16_tiles.hpp"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LOCUS_BF16_KERNEL 1
#include <immintrin.h>
#endif

namespace locus::neuromod {

namespace {

constexpr std::size_t kPanelCols = 16;

// Round to nearest even like VCVTNE2PS2BF16: denormal inputs count as zero, NaN stays a quiet NaN.
std::uint16_t bf16_bits(float v) {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(v);
  if ((u & 0x7f800000u) == 0) return static_cast<std::uint16_t>((u >> 16) & 0x8000u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x0040u);
  const std::uint32_t rounded = u + 0x7fffu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(rounded >> 16);
}

float widen(std::uint16_t bits) {
  return std::bit_cast<float>(std::uint32_t{bits} << 16);
}

}  // namespace

float round_to_bf16(float v) {
  return widen(bf16_bits(v));
}

float Bf16Panels::at(std::size_t r, std::size_t n) const {
  const std::size_t panel = n / kPanelCols, col = n % kPanelCols;
  return widen(data[((panel * pairs + r / 2) * kPanelCols + col) * 2 + r % 2]);
}

Bf16Panels pack_bf16_panels(const float* source, std::size_t depth, std::size_t cols,
                            std::size_t col_stride, std::size_t depth_stride) {
  Bf16Panels b;
  b.depth = depth;
  b.cols = cols;
  b.pairs = (depth + 1) / 2;
  b.panels = (cols + kPanelCols - 1) / kPanelCols;
  b.data.assign(b.panels * b.pairs * kPanelCols * 2, 0);
  for (std::size_t n = 0; n < cols; ++n) {
    const std::size_t panel = n / kPanelCols, col = n % kPanelCols;
    for (std::size_t r = 0; r < depth; ++r) {
      b.data[((panel * b.pairs + r / 2) * kPanelCols + col) * 2 + r % 2] =
          bf16_bits(source[n * col_stride + r * depth_stride]);
    }
  }
  return b;
}

bool cpu_supports_bf16_products() {
#ifdef LOCUS_BF16_KERNEL
  static const bool supported = __builtin_cpu_supports("avx512bf16") &&
                                __builtin_cpu_supports("avx512bw") &&
                                __builtin_cpu_supports("avx512vl");
  return supported;
#else
  return false;
#endif
}

std::string bf16_products_unavailable_reason() {
#ifdef LOCUS_BF16_KERNEL
  if (cpu_supports_bf16_products()) return "";
  return "this CPU has no AVX512-BF16 (it takes Intel Cooper Lake or Sapphire Rapids and later, "
         "or AMD Zen 4 and later)";
#else
  return "this build has no bfloat16 kernel (it needs GCC on x86-64)";
#endif
}

namespace bf16 {

namespace {

#ifdef LOCUS_BF16_KERNEL
#define LOCUS_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

std::uint32_t pair_bits(float low, float high) {
  return std::uint32_t{bf16_bits(low)} | (std::uint32_t{bf16_bits(high)} << 16);
}

LOCUS_BF16_TARGET void convert_row_avx512(const float* a, std::size_t depth, std::uint32_t* out) {
  std::size_t p = 0;
  // 32 floats -> 16 pairs per instruction (VCVTNE2PS2BF16: the low half comes from its second
  // operand).
  for (; 2 * p + 32 <= depth; p += 16) {
    const __m512 low = _mm512_loadu_ps(a + 2 * p);
    const __m512 high = _mm512_loadu_ps(a + 2 * p + 16);
    _mm512_storeu_si512(out + p, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(high, low)));
  }
  for (; 2 * p < depth; ++p) out[p] = pair_bits(a[2 * p], 2 * p + 1 < depth ? a[2 * p + 1] : 0.0f);
}

// MR rows x NV panels of 16 columns: MR * NV accumulators stay in registers over the whole depth.
// `last_cols` columns of the last panel are stored (the rest is padding).
template <int MR, int NV>
LOCUS_BF16_TARGET void tile(const std::uint32_t* a, std::size_t lda, const std::uint16_t* panel,
                            std::size_t pairs, float* c, std::size_t ldc, std::size_t last_cols,
                            float scale, bool accumulate) {
  __m512 acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  const std::size_t panel_stride = pairs * kPanelCols * 2;
  for (std::size_t p = 0; p < pairs; ++p) {
    __m512bh b[NV];
    for (int v = 0; v < NV; ++v) {
      b[v] = reinterpret_cast<__m512bh>(
          _mm512_loadu_si512(panel + std::size_t(v) * panel_stride + p * kPanelCols * 2));
    }
    for (int i = 0; i < MR; ++i) {
      const auto broadcast =
          reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(a[i * lda + p])));
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], broadcast, b[v]);
    }
  }
  const __m512 s = _mm512_set1_ps(scale);
  const __mmask16 last_mask = static_cast<__mmask16>((1u << last_cols) - 1u);
  for (int i = 0; i < MR; ++i) {
    for (int v = 0; v < NV; ++v) {
      float* out = c + i * ldc + v * kPanelCols;
      const __mmask16 mask = v == NV - 1 ? last_mask : static_cast<__mmask16>(0xffff);
      __m512 value = _mm512_mul_ps(acc[i][v], s);
      if (accumulate) value = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, out), value);
      _mm512_mask_storeu_ps(out, mask, value);
    }
  }
}

template <int NV>
void rows_of_tile(const std::uint32_t* a, std::size_t rows, std::size_t lda,
                  const std::uint16_t* panel, std::size_t pairs, float* c, std::size_t ldc,
                  std::size_t last_cols, float scale, bool accumulate) {
  constexpr std::size_t kRows = 8;
  std::size_t r = 0;
  for (; r + kRows <= rows; r += kRows) {
    tile<kRows, NV>(a + r * lda, lda, panel, pairs, c + r * ldc, ldc, last_cols, scale, accumulate);
  }
  const std::uint32_t* ar = a + r * lda;
  float* cr = c + r * ldc;
  switch (rows - r) {
    case 0:
      break;
    case 1:
      tile<1, NV>(ar, lda, panel, pairs, cr, ldc, last_cols, scale, accumulate);
      break;
    case 2:
      tile<2, NV>(ar, lda, panel, pairs, cr, ldc, last_cols, scale, accumulate);
      break;
    case 3:
      tile<3, NV>(ar, lda, panel, pairs, cr, ldc, last_cols, scale, accumulate);
      break;
    case 4:
      tile<4, NV>(ar, lda, panel, pairs, cr, ldc, last_cols, scale, accumulate);
      break;
    case 5:
      tile<5, NV>(ar, lda, panel, pairs, cr, ldc, last_cols, scale, accumulate);
      break;
    case 6:
      tile<6, NV>(ar, lda, panel, pairs, cr, ldc, last_cols, scale, accumulate);
      break;
    default:
      tile<7, NV>(ar, lda, panel, pairs, cr, ldc, last_cols, scale, accumulate);
      break;
  }
}
#endif

void require_support() {
  if (!cpu_supports_bf16_products()) {
    throw std::logic_error(
        "bf16 products called on a CPU without AVX512-BF16 (set_matmul_precision should have "
        "refused)");
  }
}

}  // namespace

void convert_rows(const float* a, std::size_t rows, std::size_t depth, std::uint32_t* pairs) {
  require_support();
#ifdef LOCUS_BF16_KERNEL
  const std::size_t words = (depth + 1) / 2;
  for (std::size_t r = 0; r < rows; ++r)
    convert_row_avx512(a + r * depth, depth, pairs + r * words);
#else
  (void)a, (void)rows, (void)depth, (void)pairs;
#endif
}

void multiply_tile(const std::uint32_t* pairs, std::size_t rows, const Bf16Panels& b,
                   std::size_t panel_begin, std::size_t panel_end, float scale, float* c,
                   std::size_t ldc, bool accumulate) {
  require_support();
#ifdef LOCUS_BF16_KERNEL
  // Three panels (48 columns, 24 accumulators for 8 rows) at a time: the widest tile that leaves
  // registers for the weight loads and the broadcast.
  constexpr std::size_t kPanelsPerTile = 3;
  for (std::size_t p = panel_begin; p < panel_end; p += kPanelsPerTile) {
    const std::size_t count = std::min(kPanelsPerTile, panel_end - p);
    const std::size_t last_cols = std::min(kPanelCols, b.cols - (p + count - 1) * kPanelCols);
    const std::uint16_t* panel = b.data.data() + p * b.pairs * kPanelCols * 2;
    float* cp = c + p * kPanelCols;
    if (count == 3) {
      rows_of_tile<3>(pairs, rows, b.pairs, panel, b.pairs, cp, ldc, last_cols, scale, accumulate);
    } else if (count == 2) {
      rows_of_tile<2>(pairs, rows, b.pairs, panel, b.pairs, cp, ldc, last_cols, scale, accumulate);
    } else {
      rows_of_tile<1>(pairs, rows, b.pairs, panel, b.pairs, cp, ldc, last_cols, scale, accumulate);
    }
  }
#else
  (void)pairs, (void)rows, (void)b, (void)panel_begin, (void)panel_end, (void)scale, (void)c,
      (void)ldc, (void)accumulate;
#endif
}

}  // namespace bf16

}  // namespace locus::neuromod
