#include "neuromod/cuda/batch_plan.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "neuromod/errors.hpp"
#include "neuromod/network_checks.hpp"

namespace locus::neuromod::cuda {

namespace {

void check_request(const BatchRequest& request) {
  if (request.rows > kMaxBatchRows) {
    throw ShapeError(
        fmt::format("forward: a batch of {} rows; the CUDA backend takes at most {} rows per batch",
                    request.rows, kMaxBatchRows));
  }
  if (!request.episode_starts.empty() && request.episode_starts.size() != request.rows) {
    throw ShapeError(fmt::format("forward: {} episode-start flags for a batch of {} rows",
                                 request.episode_starts.size(), request.rows));
  }
}

// Each row's context (checked), which contexts the batch uses, and the rows per context.
void assign_contexts(const BatchRequest& request, BatchPlan& plan) {
  const std::size_t contexts = request.context_set.size();
  plan.rows = request.rows;
  plan.row_context.resize(request.rows);
  plan.context_in_batch.assign(contexts, 0);
  plan.counts.assign(contexts, 0);
  for (std::size_t r = 0; r < request.rows; ++r) {
    const ContextId c = checks::row_context(request.context_ids, r, request.selected, contexts);
    plan.row_context[r] = c;
    plan.context_in_batch[std::size_t(c)] = 1;
    ++plan.counts[std::size_t(c)];
  }
}

// Weight sets: the network works on the rows sorted by set (stably), so that each set's rows are
// consecutive and every product is one strided batched GEMM per run of consecutive sets with
// equal row counts. A batch that does not come sorted is gathered once at the input and its
// outputs scattered back once per head, rather than around every product; the rows of one context
// keep their order, so the reductions sum as they would. Returns the row contexts in the network's
// row order.
const std::vector<std::int32_t>& plan_weight_sets(const BatchRequest& request, BatchPlan& plan) {
  plan.set_runs.clear();
  plan.rows_permuted = false;
  if (request.weight_sets <= 1) return plan.row_context;
  const std::size_t sets = request.weight_sets;
  const auto set_of = [&](std::size_t r) {
    return std::size_t(request.context_set[std::size_t(plan.row_context[r])]);
  };
  plan.set_counts.assign(sets, 0);
  std::size_t previous = 0;
  for (std::size_t r = 0; r < request.rows; ++r) {
    const std::size_t set = set_of(r);
    ++plan.set_counts[set];
    if (set < previous) plan.rows_permuted = true;
    previous = set;
  }
  std::size_t row_begin = 0;
  for (std::size_t set = 0; set < sets; ++set) {
    const auto n = std::size_t(plan.set_counts[set]);
    if (n == 0) continue;
    SetRun* last = plan.set_runs.empty() ? nullptr : &plan.set_runs.back();
    if (last && last->first_set + last->sets == set && last->rows_per_set == n) {
      ++last->sets;
    } else {
      plan.set_runs.push_back({set, 1, n, row_begin});
    }
    row_begin += n;
  }
  if (!plan.rows_permuted) return plan.row_context;
  std::vector<std::int32_t>& next = plan.set_counts;  // the counts become first positions
  std::int32_t at = 0;
  for (std::size_t set = 0; set < sets; ++set) at += std::exchange(next[set], at);
  plan.set_order.resize(request.rows);
  plan.sorted_context.resize(request.rows);
  for (std::size_t r = 0; r < request.rows; ++r) {
    const auto i = std::size_t(next[set_of(r)]++);
    plan.set_order[i] = static_cast<std::int32_t>(r);
    plan.sorted_context[i] = plan.row_context[r];
  }
  return plan.sorted_context;
}

// Appends the chunks and groups of the rows cut into consecutive groups of `group_sizes` rows
// (group g goes to targets[g]; empty groups are left out).
void append_groups(std::span<const std::int32_t> group_sizes, std::span<const std::int32_t> targets,
                   BatchPlan& plan, RowGroupsLayout& layout) {
  std::vector<std::int32_t>& chunks = plan.chunk_scratch;
  std::vector<std::int32_t>& groups = plan.group_scratch;
  chunks.clear();
  groups.clear();
  std::int32_t begin = 0;
  for (std::size_t g = 0; g < group_sizes.size(); ++g) {
    if (group_sizes[g] == 0) continue;
    const auto first_chunk = static_cast<std::int32_t>(chunks.size() / 3);
    const std::int32_t end = begin + group_sizes[g];
    for (std::int32_t at = begin; at < end; at += kReduceChunkRows) {
      chunks.insert(chunks.end(), {static_cast<std::int32_t>(groups.size() / 3), at,
                                   std::min(end, at + kReduceChunkRows)});
    }
    groups.insert(groups.end(),
                  {targets[g], first_chunk, static_cast<std::int32_t>(chunks.size() / 3)});
    begin = end;
  }
  std::vector<std::int32_t>& h = plan.staging;
  layout.chunks = h.size();
  h.insert(h.end(), chunks.begin(), chunks.end());
  layout.groups = h.size();
  h.insert(h.end(), groups.begin(), groups.end());
  layout.chunk_count = static_cast<int>(chunks.size() / 3);
  layout.group_count = static_cast<int>(groups.size() / 3);
}

// The rows grouped by context (a stable counting sort of `ids`), then all rows as one group.
void append_row_groups(std::span<const std::int32_t> ids, BatchPlan& plan) {
  const std::size_t rows = ids.size(), contexts = plan.counts.size();
  std::vector<std::int32_t>& h = plan.staging;
  std::vector<std::int32_t>& next = plan.next;
  next.assign(contexts, 0);
  for (std::size_t c = 1; c < contexts; ++c) next[c] = next[c - 1] + plan.counts[c - 1];
  plan.by_context.order = h.size();
  h.resize(h.size() + rows);
  for (std::size_t r = 0; r < rows; ++r) {
    h[plan.by_context.order + std::size_t(next[std::size_t(ids[r])]++)] =
        static_cast<std::int32_t>(r);
  }
  for (std::size_t c = 0; c < contexts; ++c) next[c] = static_cast<std::int32_t>(c);  // targets
  append_groups(plan.counts, next, plan, plan.by_context);

  plan.all_rows.order = h.size();
  for (std::size_t r = 0; r < rows; ++r) h.push_back(static_cast<std::int32_t>(r));
  const std::int32_t all[1] = {static_cast<std::int32_t>(rows)};
  const std::int32_t target[1] = {0};
  append_groups(all, target, plan, plan.all_rows);
}

}  // namespace

void plan_batch(const BatchRequest& request, BatchPlan& plan) {
  check_request(request);
  assign_contexts(request, plan);
  const std::vector<std::int32_t>& ids = plan_weight_sets(request, plan);

  std::vector<std::int32_t>& h = plan.staging;
  h.assign(ids.begin(), ids.end());
  append_row_groups(ids, plan);
  plan.set_order_at = h.size();
  if (plan.rows_permuted) h.insert(h.end(), plan.set_order.begin(), plan.set_order.end());
  plan.starts_at = h.size();
  for (const std::uint8_t flag : request.episode_starts) h.push_back(flag != 0 ? 1 : 0);
}

}  // namespace locus::neuromod::cuda
