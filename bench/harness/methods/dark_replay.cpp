#include "bench/harness/methods/dark_replay.hpp"

#include <fmt/format.h>

#include <xtensor/xview.hpp>

#include "bench/harness/errors.hpp"
#include "neuromod/losses.hpp"

namespace locus::bench {

namespace nm = locus::neuromod;

namespace {

// Rows [first, first + count) of `m`, as a matrix of their own.
nm::Matrix rows_of(const nm::Matrix& m, std::size_t first, std::size_t count) {
  return xt::view(m, xt::range(first, first + count), xt::all());
}

void place_rows(nm::Matrix& into, const nm::Matrix& block, std::size_t first, float scale) {
  xt::view(into, xt::range(first, first + block.shape(0)), xt::all()) = block * scale;
}

}  // namespace

DarkReplayLoss dark_replay_loss(const nm::Matrix& logits, std::span<const std::int32_t> labels,
                                std::int64_t current, const nm::Matrix& stored, double alpha,
                                double beta, nm::Matrix& gradient) {
  const std::size_t rows = logits.shape(0);
  const std::size_t matched = stored.shape(0);
  const auto first_matched = static_cast<std::size_t>(current);
  if (current < 1 || first_matched + matched > rows || labels.size() != rows ||
      (matched > 0 && stored.shape(1) != logits.shape(1))) {
    throw InvalidArgumentError(fmt::format(
        "dark replay: {} rows with {} labels cannot hold {} current rows and {} stored logits of "
        "width {} (logits are {} wide)",
        rows, labels.size(), current, matched, matched > 0 ? stored.shape(1) : 0, logits.shape(1)));
  }
  const std::size_t first_labelled = first_matched + matched;
  const std::size_t labelled = rows - first_labelled;
  gradient.resize(logits.shape());
  gradient.fill(0.0f);
  DarkReplayLoss loss;
  nm::Matrix block_gradient;
  loss.current = nm::softmax_cross_entropy(rows_of(logits, 0, first_matched),
                                           labels.subspan(0, first_matched), &block_gradient);
  place_rows(gradient, block_gradient, 0, 1.0f);
  loss.total = loss.current;
  if (matched > 0) {
    loss.matched =
        nm::mean_squared_error(rows_of(logits, first_matched, matched), stored, &block_gradient);
    place_rows(gradient, block_gradient, first_matched, static_cast<float>(alpha));
    loss.total += alpha * loss.matched;
  }
  if (labelled > 0) {
    loss.labelled =
        nm::softmax_cross_entropy(rows_of(logits, first_labelled, labelled),
                                  labels.subspan(first_labelled, labelled), &block_gradient);
    place_rows(gradient, block_gradient, first_labelled, static_cast<float>(beta));
    loss.total += beta * loss.labelled;
  }
  return loss;
}

}  // namespace locus::bench
