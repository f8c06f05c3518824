#pragma once
// Internal to the CPU kernels: the pieces of the bfloat16 product (bf16_kernels.cpp) that
// cpu_kernels.cpp schedules over TBB tasks.

#include <cstddef>
#include <cstdint>

#include "neuromod/kernels.hpp"

namespace locus::neuromod::bf16 {

// Rows of `a` (rows, depth) rounded to bfloat16 as pairs of consecutive entries, one 32-bit word
// per pair ((depth + 1) / 2 words per row, the last pair zero-padded): the layout the dot-product
// instruction broadcasts.
void convert_rows(const float* a, std::size_t rows, std::size_t depth, std::uint32_t* pairs);

// c[r, n] (= or +=) scale * sum_k a[r, k] B[k, n] for rows [0, rows) of `pairs` (converted rows,
// b.pairs words each) and the columns of panels [panel_begin, panel_end). Each output element is
// one dot product in a fixed order, whatever the tiling, so the result does not depend on how the
// caller splits the work. Needs cpu_supports_bf16_products().
void multiply_tile(const std::uint32_t* pairs, std::size_t rows, const Bf16Panels& b,
                   std::size_t panel_begin, std::size_t panel_end, float scale, float* c,
                   std::size_t ldc, bool accumulate);

}  // namespace locus::neuromod::bf16
