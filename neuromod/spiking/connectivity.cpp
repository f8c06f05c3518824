#include "neuromod/spiking/connectivity.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "neuromod/spiking/errors.hpp"
#include "neuromod/spiking/rng.hpp"

namespace locus::neuromod::spiking {

namespace {

struct Grid {
  std::int64_t columns = 1;
  std::int64_t rows = 1;
};

Grid sheet_grid(std::int64_t count) {
  Grid grid;
  grid.columns = static_cast<std::int64_t>(std::ceil(std::sqrt(static_cast<double>(count))));
  grid.columns = std::max<std::int64_t>(grid.columns, 1);
  grid.rows = (count + grid.columns - 1) / grid.columns;
  return grid;
}

double wrap_delta(double delta) {
  delta = std::fabs(delta);
  return std::min(delta, 1.0 - delta);
}

// Indices j in [0, count) whose evenly spaced coordinate (j + 0.5) / count lies within `radius`
// of x on the unit circle, each once, in a fixed order; all of them when the window covers it.
template <typename Visit>
void for_each_in_window(double x, double radius, std::int64_t count, Visit&& visit) {
  const double first = std::ceil((x - radius) * static_cast<double>(count) - 0.5);
  const double last = std::floor((x + radius) * static_cast<double>(count) - 0.5);
  if (2.0 * radius >= 1.0 || last - first + 1.0 >= static_cast<double>(count)) {
    for (std::int64_t j = 0; j < count; ++j) visit(j);
    return;
  }
  for (auto j = static_cast<std::int64_t>(first); j <= static_cast<std::int64_t>(last); ++j) {
    visit(((j % count) + count) % count);
  }
}

}  // namespace

std::pair<double, double> neuron_position(Geometry geometry, std::int64_t index,
                                          std::int64_t count) {
  if (geometry == Geometry::kRing) {
    return {(static_cast<double>(index) + 0.5) / static_cast<double>(count), 0.0};
  }
  const Grid grid = sheet_grid(count);
  const std::int64_t column = index % grid.columns;
  const std::int64_t row = index / grid.columns;
  return {(static_cast<double>(column) + 0.5) / static_cast<double>(grid.columns),
          (static_cast<double>(row) + 0.5) / static_cast<double>(grid.rows)};
}

double wrapped_distance(Geometry geometry, std::pair<double, double> a,
                        std::pair<double, double> b) {
  const double dx = wrap_delta(a.first - b.first);
  if (geometry == Geometry::kRing) return dx;
  const double dy = wrap_delta(a.second - b.second);
  return std::sqrt(dx * dx + dy * dy);
}

double expected_fan_in(Geometry geometry, double p_max, double sigma, std::int64_t pre_count) {
  const double n = static_cast<double>(pre_count);
  if (geometry == Geometry::kRing) return p_max * n * sigma * std::sqrt(2.0 * std::numbers::pi);
  return p_max * n * 2.0 * std::numbers::pi * sigma * sigma;
}

SynapseTable build_gaussian_projection(const ProjectionSpec& spec, std::int64_t pre_count,
                                       std::int64_t post_count, bool same_population,
                                       Geometry geometry, double cutoff_sigmas, std::uint64_t seed,
                                       std::uint64_t stream) {
  if (pre_count < 0 || post_count < 0 || pre_count > INT32_MAX || post_count > INT32_MAX) {
    throw InvalidArgumentError("projection sizes must be in [0, 2^31), got pre " +
                               std::to_string(pre_count) + ", post " + std::to_string(post_count));
  }
  SynapseTable table;
  table.pre_count = pre_count;
  table.post_count = post_count;
  std::vector<std::vector<std::int32_t>> rows(static_cast<std::size_t>(pre_count));
  const double radius = cutoff_sigmas * spec.sigma;
  const double inv_two_sigma2 = 1.0 / (2.0 * spec.sigma * spec.sigma);
  const Grid post_grid = sheet_grid(post_count);

  tbb::parallel_for(
      tbb::blocked_range<std::int64_t>(0, pre_count, 64),
      [&](const tbb::blocked_range<std::int64_t>& range) {
        for (std::int64_t i = range.begin(); i != range.end(); ++i) {
          NeuronRng rng(seed, stream, static_cast<std::uint64_t>(i));
          const auto here = neuron_position(geometry, i, pre_count);
          auto& row = rows[static_cast<std::size_t>(i)];
          auto consider = [&](std::int64_t j) {
            if (same_population && j == i) return;
            const double r =
                wrapped_distance(geometry, here, neuron_position(geometry, j, post_count));
            if (r > radius) return;
            // One draw per candidate, in the window's fixed order.
            if (rng.uniform() < spec.p_max * std::exp(-r * r * inv_two_sigma2)) {
              row.push_back(static_cast<std::int32_t>(j));
            }
          };
          if (geometry == Geometry::kRing) {
            for_each_in_window(here.first, radius, post_count, consider);
          } else {
            for_each_in_window(here.second, radius, post_grid.rows, [&](std::int64_t grid_row) {
              for_each_in_window(here.first, radius, post_grid.columns, [&](std::int64_t column) {
                const std::int64_t j = grid_row * post_grid.columns + column;
                if (j < post_count) consider(j);
              });
            });
          }
          std::sort(row.begin(), row.end());
        }
      });

  table.row_offsets.assign(static_cast<std::size_t>(pre_count) + 1, 0);
  for (std::int64_t i = 0; i < pre_count; ++i) {
    table.row_offsets[static_cast<std::size_t>(i) + 1] =
        table.row_offsets[static_cast<std::size_t>(i)] +
        static_cast<std::int64_t>(rows[static_cast<std::size_t>(i)].size());
  }
  table.post.reserve(static_cast<std::size_t>(table.row_offsets.back()));
  for (const auto& row : rows) table.post.insert(table.post.end(), row.begin(), row.end());
  table.weight.assign(table.post.size(), spec.weight);
  table.pre.resize(table.post.size());
  for (std::int64_t i = 0; i < pre_count; ++i) {
    std::fill(table.pre.begin() + table.row_offsets[static_cast<std::size_t>(i)],
              table.pre.begin() + table.row_offsets[static_cast<std::size_t>(i) + 1],
              static_cast<std::int32_t>(i));
  }

  // Incoming index by counting sort: scanning rows in order keeps each column's presynaptic
  // neurons ascending.
  table.column_offsets.assign(static_cast<std::size_t>(post_count) + 1, 0);
  for (const std::int32_t j : table.post) ++table.column_offsets[static_cast<std::size_t>(j) + 1];
  for (std::int64_t j = 0; j < post_count; ++j) {
    table.column_offsets[static_cast<std::size_t>(j) + 1] +=
        table.column_offsets[static_cast<std::size_t>(j)];
  }
  table.column_synapses.resize(table.post.size());
  std::vector<std::int64_t> fill(table.column_offsets.begin(), table.column_offsets.end() - 1);
  for (std::int64_t s = 0; s < table.size(); ++s) {
    const auto j = static_cast<std::size_t>(table.post[static_cast<std::size_t>(s)]);
    table.column_synapses[static_cast<std::size_t>(fill[j]++)] = s;
  }
  return table;
}

}  // namespace locus::neuromod::spiking
