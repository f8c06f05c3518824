// The CUDA backend's batch plan (neuromod/cuda/batch_plan.hpp), on the CPU: the staging buffer the
// network uploads, worked out by hand for small batches (contexts with and without rows, chunks of
// 64 rows, weight sets sorted and unsorted, episode starts), the errors, reuse of a plan between
// batches, and the invariants the kernels rely on over random batches. What this cannot check: the
// upload and the kernels that read the plan (test_cuda.cpp and test_cuda_kernels.cpp do, where a
// device is present).

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "neuromod/cuda/batch_plan.hpp"
#include "neuromod/errors.hpp"
#include "support.hpp"

using namespace locus::neuromod;
using Catch::Matchers::Contains;
using locus::neuromod::cuda::BatchPlan;
using locus::neuromod::cuda::BatchRequest;
using locus::neuromod::cuda::plan_batch;
using locus::neuromod::cuda::SetRun;
using IntList = std::vector<std::int32_t>;

namespace {

BatchPlan plan_of(const BatchRequest& request) {
  BatchPlan plan;
  plan_batch(request, plan);
  return plan;
}

IntList slice(const BatchPlan& plan, std::size_t at, std::size_t count) {
  REQUIRE(at + count <= plan.staging.size());
  return {plan.staging.begin() + std::ptrdiff_t(at),
          plan.staging.begin() + std::ptrdiff_t(at + count)};
}

IntList chunks(const BatchPlan& plan, const cuda::RowGroupsLayout& layout) {
  return slice(plan, layout.chunks, 3 * std::size_t(layout.chunk_count));
}

IntList groups(const BatchPlan& plan, const cuda::RowGroupsLayout& layout) {
  return slice(plan, layout.groups, 3 * std::size_t(layout.group_count));
}

}  // namespace

TEST_CASE("batch plan: rows grouped by context, the whole staging buffer worked by hand",
          "[neuromod][cuda][plan]") {
  const std::vector<ContextId> ids = {1, 0, 1, 2, 1};
  const std::vector<std::uint32_t> sets = {0, 0, 0};
  const BatchPlan plan = plan_of({.rows = 5, .context_ids = ids, .context_set = sets});
  REQUIRE(plan.rows == 5);
  REQUIRE(plan.row_context == IntList{1, 0, 1, 2, 1});
  REQUIRE(plan.context_in_batch == std::vector<char>{1, 1, 1});
  REQUIRE_FALSE(plan.rows_permuted);
  REQUIRE(plan.set_runs.empty());
  const IntList expected = {
      1, 0, 1, 2, 1,              // row contexts
      1, 0, 2, 4, 3,              // by context: context 0's row, 1's three, 2's one
      0, 0, 1, 1, 1, 4, 2, 4, 5,  // its chunks (group, begin, end)
      0, 0, 1, 1, 1, 2, 2, 2, 3,  // its groups (target, first chunk, end chunk)
      0, 1, 2, 3, 4,              // all rows: the identity
      0, 0, 5,                    // one chunk
      0, 0, 1};                   // one group, target 0
  REQUIRE(plan.staging == expected);
  REQUIRE(plan.by_context.order == 5);
  REQUIRE(plan.by_context.chunks == 10);
  REQUIRE(plan.by_context.groups == 19);
  REQUIRE(plan.by_context.chunk_count == 3);
  REQUIRE(plan.by_context.group_count == 3);
  REQUIRE(plan.all_rows.order == 28);
  REQUIRE(plan.all_rows.chunks == 33);
  REQUIRE(plan.all_rows.groups == 36);
  REQUIRE(plan.all_rows.chunk_count == 1);
  REQUIRE(plan.all_rows.group_count == 1);
  REQUIRE(plan.set_order_at == 39);
  REQUIRE(plan.starts_at == 39);
}

TEST_CASE("batch plan: a context without rows has no group, and gets no gradient mark",
          "[neuromod][cuda][plan]") {
  const std::vector<ContextId> ids = {2, 2, 0};
  const std::vector<std::uint32_t> sets = {0, 0, 0};
  const BatchPlan plan = plan_of({.rows = 3, .context_ids = ids, .context_set = sets});
  REQUIRE(plan.context_in_batch == std::vector<char>{1, 0, 1});
  REQUIRE(slice(plan, plan.by_context.order, 3) == IntList{2, 0, 1});
  REQUIRE(chunks(plan, plan.by_context) == IntList{0, 0, 1, 1, 1, 3});
  REQUIRE(groups(plan, plan.by_context) == IntList{0, 0, 1, 2, 1, 2});
}

TEST_CASE("batch plan: without ids every row is in the selected context, cut into 64-row chunks",
          "[neuromod][cuda][plan]") {
  const std::vector<std::uint32_t> sets = {0, 0};
  const BatchPlan plan = plan_of({.rows = 130, .selected = 1, .context_set = sets});
  REQUIRE(plan.row_context == IntList(130, 1));
  REQUIRE(plan.context_in_batch == std::vector<char>{0, 1});
  REQUIRE(chunks(plan, plan.by_context) == IntList{0, 0, 64, 0, 64, 128, 0, 128, 130});
  REQUIRE(groups(plan, plan.by_context) == IntList{1, 0, 3});
  REQUIRE(chunks(plan, plan.all_rows) == IntList{0, 0, 64, 0, 64, 128, 0, 128, 130});
  REQUIRE(groups(plan, plan.all_rows) == IntList{0, 0, 3});
  // A chunk boundary inside the second of two groups: 64 is the first row of its second chunk.
  const std::vector<ContextId> ids = [] {
    std::vector<ContextId> v(70, 1);
    v[0] = 0;
    return v;
  }();
  const BatchPlan split = plan_of({.rows = 70, .context_ids = ids, .context_set = sets});
  REQUIRE(chunks(split, split.by_context) == IntList{0, 0, 1, 1, 1, 65, 1, 65, 70});
  REQUIRE(groups(split, split.by_context) == IntList{0, 0, 1, 1, 1, 3});
}

TEST_CASE("batch plan: unsorted weight sets are sorted stably, cut into runs of equal counts",
          "[neuromod][cuda][plan][weight-sets]") {
  // Contexts 0..4 in sets 0, 1, 1, 3, 2; the rows' sets are 3 0 1 1 0 2 3.
  const std::vector<std::uint32_t> sets = {0, 1, 1, 3, 2};
  const std::vector<ContextId> ids = {3, 0, 1, 2, 0, 4, 3};
  const BatchPlan plan =
      plan_of({.rows = 7, .context_ids = ids, .context_set = sets, .weight_sets = 4});
  REQUIRE(plan.rows_permuted);
  // Sets 0 and 1 have two rows each (one run of two sets), set 2 one, set 3 two.
  REQUIRE(plan.set_runs == std::vector<SetRun>{{0, 2, 2, 0}, {2, 1, 1, 4}, {3, 1, 2, 5}});
  REQUIRE(plan.set_order == IntList{1, 4, 2, 3, 5, 0, 6});
  REQUIRE(plan.row_context == IntList{3, 0, 1, 2, 0, 4, 3});  // the caller's order
  // The kernels see the network's order: contexts 0 0 1 2 4 3 3.
  REQUIRE(slice(plan, 0, 7) == IntList{0, 0, 1, 2, 4, 3, 3});
  REQUIRE(slice(plan, plan.by_context.order, 7) == IntList{0, 1, 2, 3, 5, 6, 4});
  REQUIRE(groups(plan, plan.by_context) == IntList{0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5});
  REQUIRE(slice(plan, plan.set_order_at, 7) == plan.set_order);
  REQUIRE(plan.starts_at == plan.set_order_at + 7);
  REQUIRE(plan.staging.size() == plan.starts_at);
}

TEST_CASE("batch plan: weight sets that come sorted are not permuted", "[neuromod][cuda][plan]") {
  const std::vector<std::uint32_t> sets = {0, 1, 2};
  const std::vector<ContextId> ids = {0, 0, 1, 2, 2, 2};
  const BatchPlan plan =
      plan_of({.rows = 6, .context_ids = ids, .context_set = sets, .weight_sets = 3});
  REQUIRE_FALSE(plan.rows_permuted);
  REQUIRE(plan.set_runs == std::vector<SetRun>{{0, 1, 2, 0}, {1, 1, 1, 2}, {2, 1, 3, 3}});
  REQUIRE(slice(plan, 0, 6) == IntList{0, 0, 1, 2, 2, 2});
  REQUIRE(plan.set_order_at == plan.starts_at);  // no set order uploaded
  // A set without rows breaks a run: sets 0 and 2 have one row each, set 1 none.
  const std::vector<ContextId> gap = {0, 2};
  const BatchPlan gapped =
      plan_of({.rows = 2, .context_ids = gap, .context_set = sets, .weight_sets = 3});
  REQUIRE(gapped.set_runs == std::vector<SetRun>{{0, 1, 1, 0}, {2, 1, 1, 1}});
}

TEST_CASE("batch plan: episode starts are uploaded last, as 0 or 1", "[neuromod][cuda][plan]") {
  const std::vector<std::uint32_t> sets = {0};
  const std::vector<std::uint8_t> starts = {0, 3, 1};
  const BatchPlan plan = plan_of({.rows = 3, .context_set = sets, .episode_starts = starts});
  REQUIRE(plan.staging.size() == plan.starts_at + 3);
  REQUIRE(slice(plan, plan.starts_at, 3) == IntList{0, 1, 1});
}

TEST_CASE("batch plan: bad contexts, too many rows and a wrong number of starts are refused",
          "[neuromod][cuda][plan]") {
  const std::vector<std::uint32_t> sets = {0, 0, 0};
  const std::vector<ContextId> bad = {0, 3};
  BatchPlan plan;
  REQUIRE_THROWS_WITH(plan_batch({.rows = 2, .context_ids = bad, .context_set = sets}, plan),
                      Contains("row 1 has context 3") && Contains("3 contexts"));
  REQUIRE_THROWS_AS(plan_batch({.rows = 1, .selected = 5, .context_set = sets}, plan),
                    ContextError);
  REQUIRE_THROWS_WITH(plan_batch({.rows = cuda::kMaxBatchRows + 1, .context_set = sets}, plan),
                      Contains("at most 4194240 rows"));
  const std::vector<std::uint8_t> starts = {1, 0};
  REQUIRE_THROWS_AS(plan_batch({.rows = 3, .context_set = sets, .episode_starts = starts}, plan),
                    ShapeError);
}

TEST_CASE("batch plan: a plan reused for a smaller batch equals a fresh one",
          "[neuromod][cuda][plan]") {
  const std::vector<std::uint32_t> sets = {2, 0, 1, 0};
  const auto big_ids = testing::random_contexts(300, 4, 1);
  const auto small_ids = testing::random_contexts(9, 4, 2);
  const BatchRequest small{
      .rows = 9, .context_ids = small_ids, .context_set = sets, .weight_sets = 3};
  BatchPlan reused;
  plan_batch({.rows = 300, .context_ids = big_ids, .context_set = sets, .weight_sets = 3}, reused);
  plan_batch(small, reused);
  const BatchPlan fresh = plan_of(small);
  REQUIRE(reused.staging == fresh.staging);
  REQUIRE(reused.set_runs == fresh.set_runs);
  REQUIRE(reused.rows_permuted == fresh.rows_permuted);
  REQUIRE(reused.context_in_batch == fresh.context_in_batch);
}

TEST_CASE("batch plan: every random batch keeps the kernels' invariants",
          "[neuromod][cuda][plan]") {
  const std::vector<std::uint32_t> sets = {1, 0, 2, 1, 0};
  for (const std::size_t rows : {1, 63, 64, 65, 200, 1000}) {
    for (const std::size_t weight_sets : {1, 3}) {
      INFO("rows " << rows << ", weight sets " << weight_sets);
      const auto ids = testing::random_contexts(rows, sets.size(), rows + weight_sets);
      const std::vector<std::uint32_t> context_set =
          weight_sets == 1 ? std::vector<std::uint32_t>(sets.size(), 0) : sets;
      const BatchPlan plan = plan_of({.rows = rows,
                                      .context_ids = ids,
                                      .context_set = context_set,
                                      .weight_sets = weight_sets});
      const IntList network_context = slice(plan, 0, rows);
      // The network's order: sorted by set, each context's rows in the caller's order.
      for (std::size_t i = 0; i < rows; ++i) {
        const std::size_t caller = plan.rows_permuted ? std::size_t(plan.set_order[i]) : i;
        REQUIRE(network_context[i] == ids[caller]);
        if (i > 0) {
          REQUIRE(context_set[std::size_t(network_context[i - 1])] <=
                  context_set[std::size_t(network_context[i])]);
        }
      }
      // Every row once in the by-context order; each group's chunks hold its context's rows,
      // in increasing row order, at most 64 to a chunk, the chunks tiling the order.
      const IntList order = slice(plan, plan.by_context.order, rows);
      const IntList chunk = chunks(plan, plan.by_context);
      const IntList group = groups(plan, plan.by_context);
      std::int32_t covered = 0;
      for (std::size_t g = 0; g < std::size_t(plan.by_context.group_count); ++g) {
        const std::int32_t target = group[3 * g];
        std::int32_t previous_row = -1;
        for (std::int32_t c = group[3 * g + 1]; c < group[3 * g + 2]; ++c) {
          const std::size_t at = 3 * std::size_t(c);
          REQUIRE(chunk[at] == std::int32_t(g));
          REQUIRE(chunk[at + 1] == covered);
          REQUIRE(chunk[at + 2] - chunk[at + 1] <= cuda::kReduceChunkRows);
          for (std::int32_t i = chunk[at + 1]; i < chunk[at + 2]; ++i) {
            const std::int32_t row = order[std::size_t(i)];
            REQUIRE(network_context[std::size_t(row)] == target);
            REQUIRE(row > previous_row);
            previous_row = row;
          }
          covered = chunk[at + 2];
        }
      }
      REQUIRE(covered == std::int32_t(rows));
      std::size_t run_rows = 0;
      for (const SetRun& run : plan.set_runs) {
        REQUIRE(run.row_begin == run_rows);
        run_rows += run.sets * run.rows_per_set;
      }
      REQUIRE(run_rows == (weight_sets > 1 ? rows : 0));
    }
  }
}
