#pragma once
// The host-side plan of one batch on the CUDA backend: each row's context, the rows grouped by
// context for the deterministic reductions, the rows sorted by weight set for the batched
// products, and the single int32 staging buffer (BatchPlan::staging) that cuda_network.cpp
// uploads in one copy. Plain C++: it compiles without CUDA, so the CPU tests
// (tests/neuromod/test_batch_plan.cpp) check every plan on hand-worked batches.
//
// Layout of `staging`, in this order (offsets in BatchPlan):
//   row contexts (rows, in the network's row order)
//   by context: order (rows) | chunks (chunk_count, 3) | groups (group_count, 3)
//   all rows:   order (rows, the identity) | chunks | groups
//   set_order (rows), only when rows_permuted
//   episode starts (rows, 0 or 1), only when given
// A chunk is (group, begin, end) into its order, at most kReduceChunkRows rows; a group is
// (target, first chunk, end chunk). Groups without rows are left out.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "neuromod/cuda/row_groups.hpp"

namespace locus::neuromod::cuda {

// The reductions put one chunk per grid row (at most 65535 grid rows).
inline constexpr std::size_t kMaxBatchRows = std::size_t{65535} * kReduceChunkRows;

// A run of consecutive weight sets with the same number of rows: one strided batched GEMM.
struct SetRun {
  std::size_t first_set = 0, sets = 0, rows_per_set = 0, row_begin = 0;
  bool operator==(const SetRun&) const = default;
};

// Where one grouping of the rows lies in the staging buffer.
struct RowGroupsLayout {
  std::size_t order = 0, chunks = 0, groups = 0;  // offsets into staging
  int chunk_count = 0, group_count = 0;
};

// What a batch is: its rows, their context ids (none: every row in `selected`; else one per row),
// the network's contexts with each one's weight set, and the sequence batch's episode starts.
// Context ids are network.hpp's ContextId (std::int32_t).
struct BatchRequest {
  std::size_t rows = 0;
  std::span<const std::int32_t> context_ids = {};
  std::int32_t selected = 0;
  std::span<const std::uint32_t> context_set = {};  // (contexts): each context's weight set
  std::size_t weight_sets = 1;
  std::span<const std::uint8_t> episode_starts = {};  // empty, or (rows)
};

struct BatchPlan {
  std::size_t rows = 0;
  std::vector<std::int32_t> row_context;  // (rows), in the caller's row order
  std::vector<char> context_in_batch;     // (contexts): 1 where a row uses the context
  // Weight sets (weight_sets > 1): the runs of the rows sorted by set, in set order.
  std::vector<SetRun> set_runs;
  // True when the rows did not come sorted by set: the network's row i is the caller's row
  // set_order[i] (a stable sort, so one context's rows keep their order).
  bool rows_permuted = false;
  std::vector<std::int32_t> set_order;

  std::vector<std::int32_t> staging;
  RowGroupsLayout by_context, all_rows;
  std::size_t set_order_at = 0;  // valid when rows_permuted
  std::size_t starts_at = 0;     // valid when episode starts were given

  // Scratch kept between batches, so that planning allocates nothing once warm.
  std::vector<std::int32_t> counts, next, set_counts, sorted_context, chunk_scratch, group_scratch;
};

// Plans `request` into `plan` (reusing its memory). Throws ShapeError for a batch larger than
// kMaxBatchRows and ContextError (network_checks' row_context) for an id outside the contexts;
// the caller checks the shapes of the inputs themselves.
void plan_batch(const BatchRequest& request, BatchPlan& plan);

}  // namespace locus::neuromod::cuda
