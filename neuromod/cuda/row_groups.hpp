#pragma once
// How the rows of a batch are grouped for the deterministic reductions of the CUDA kernels. Shared
// by the kernels (device_kernels.hpp, compiled by nvcc in C++17) and the host-side plan that builds
// the groups (batch_plan.hpp), so it holds nothing newer than C++17 and no CUDA header.

#include <cstdint>

namespace locus::neuromod::cuda {

// Rows per chunk of a reduction: small enough to give every SM blocks.
inline constexpr int kReduceChunkRows = 64;

// Rows of a batch grouped for deterministic reductions: `order` lists row indices grouped by target
// (context, or a single target for shared parameters), each group cut into chunks of at most
// kReduceChunkRows rows. A chunk is (group, begin, end) into `order`; a group is (target, first
// chunk, end chunk). Planned on the host (batch_plan.hpp) and uploaded with the batch.
struct RowGroups {
  const std::int32_t* order = nullptr;   // (rows)
  const std::int32_t* chunks = nullptr;  // (chunk_count, 3): group, begin, end
  const std::int32_t* groups = nullptr;  // (group_count, 3): target, chunk begin, chunk end
  int chunk_count = 0;
  int group_count = 0;
};

}  // namespace locus::neuromod::cuda
