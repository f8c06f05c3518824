// Gaussian distance-dependent wiring on the ring and the sheet.

#include <tbb/info.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "neuromod/spiking/connectivity.hpp"
#include "neuromod/spiking/errors.hpp"

namespace spk = locus::neuromod::spiking;

namespace {

spk::ProjectionSpec spec(double p_max, double sigma) {
  return {.pre = spk::PopulationKind::kPyramidal,
          .post = spk::PopulationKind::kPyramidal,
          .target = spk::Compartment::kSoma,
          .weight = 0.7,
          .p_max = p_max,
          .sigma = sigma};
}

double mean_fan_in(const spk::SynapseTable& table) {
  return static_cast<double>(table.size()) / static_cast<double>(table.post_count);
}

}  // namespace

TEST_CASE("the mean fan-in matches the Gaussian profile on the ring and the sheet",
          "[spiking][connectivity]") {
  for (const auto geometry : {spk::Geometry::kRing, spk::Geometry::kSheet}) {
    CAPTURE(spk::to_string(geometry));
    const std::int64_t n = 2500;  // a 50 x 50 sheet
    const double sigma = geometry == spk::Geometry::kRing ? 0.02 : 0.08;
    const auto table =
        spk::build_gaussian_projection(spec(0.4, sigma), n, n, true, geometry, 4.0, 7, 1);
    const double expected = spk::expected_fan_in(geometry, 0.4, sigma, n);
    CAPTURE(expected, mean_fan_in(table));
    // The continuum formula counts the self-connection that is excluded (p_max) and ignores the
    // grid; the sum over n Bernoulli draws has a relative spread far below 3%.
    CHECK(mean_fan_in(table) == Approx(expected - 0.4).epsilon(0.03));
  }
}

TEST_CASE("connections fall off with distance, stop at the cutoff and skip self-connections",
          "[spiking][connectivity]") {
  const std::int64_t n = 1000;
  const double sigma = 0.03, p_max = 0.8, cutoff = 3.0;
  const auto table = spk::build_gaussian_projection(spec(p_max, sigma), n, n, true,
                                                    spk::Geometry::kRing, cutoff, 3, 2);
  // Histogram of connections by distance in units of sigma, against the number of pairs.
  std::vector<double> connected(4, 0.0);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto here = spk::neuron_position(spk::Geometry::kRing, i, n);
    for (auto s = table.row_offsets[static_cast<std::size_t>(i)];
         s < table.row_offsets[static_cast<std::size_t>(i) + 1]; ++s) {
      const auto j = table.post[static_cast<std::size_t>(s)];
      REQUIRE(j != i);
      REQUIRE(table.pre[static_cast<std::size_t>(s)] == i);
      const double r = spk::wrapped_distance(spk::Geometry::kRing, here,
                                             spk::neuron_position(spk::Geometry::kRing, j, n));
      REQUIRE(r <= cutoff * sigma + 1e-12);
      connected[static_cast<std::size_t>(std::min(3.0, std::floor(r / sigma)))] += 1.0;
    }
  }
  // Pairs per unit band: 2 n sigma n per sigma of distance (both sides of the ring).
  const double pairs = 2.0 * sigma * static_cast<double>(n) * static_cast<double>(n);
  auto band = [&](double lo) {  // mean of p_max exp(-r^2 / 2 sigma^2) over [lo, lo + 1) sigmas
    double sum = 0.0;
    for (int k = 0; k < 1000; ++k) {
      const double r = lo + (k + 0.5) / 1000.0;
      sum += p_max * std::exp(-0.5 * r * r);
    }
    return sum / 1000.0;
  };
  for (int b = 0; b < 3; ++b) {
    CAPTURE(b);
    CHECK(connected[static_cast<std::size_t>(b)] / pairs == Approx(band(b)).epsilon(0.05));
  }
  CHECK(connected[3] == 0.0);
}

TEST_CASE("the incoming index lists every synapse once, by ascending presynaptic neuron",
          "[spiking][connectivity]") {
  const auto table = spk::build_gaussian_projection(spec(0.5, 0.1), 300, 200, false,
                                                    spk::Geometry::kSheet, 4.0, 11, 5);
  std::vector<int> seen(static_cast<std::size_t>(table.size()), 0);
  for (std::int64_t j = 0; j < table.post_count; ++j) {
    std::int32_t previous = -1;
    for (auto c = table.column_offsets[static_cast<std::size_t>(j)];
         c < table.column_offsets[static_cast<std::size_t>(j) + 1]; ++c) {
      const auto s = static_cast<std::size_t>(table.column_synapses[static_cast<std::size_t>(c)]);
      CHECK(table.post[s] == j);
      CHECK(table.pre[s] > previous);
      previous = table.pre[s];
      ++seen[s];
    }
  }
  for (const int count : seen) REQUIRE(count == 1);
}

TEST_CASE("wiring depends on the seed only, not on the thread count", "[spiking][connectivity]") {
  auto build = [](int threads, std::uint64_t seed) {
    // More threads than cores only makes TBB warn, so the request is capped at the machine's.
    tbb::task_arena arena(std::min(threads, tbb::info::default_concurrency()));
    spk::SynapseTable table;
    arena.execute([&] {
      table = spk::build_gaussian_projection(spec(0.3, 0.05), 1500, 1500, true,
                                             spk::Geometry::kRing, 4.0, seed, 1);
    });
    return table;
  };
  const auto one = build(1, 5);
  const auto four = build(4, 5);
  CHECK(one.post == four.post);
  CHECK(one.row_offsets == four.row_offsets);
  CHECK(build(2, 6).post != one.post);
}

TEST_CASE("bad projection sizes are rejected with the values named", "[spiking][connectivity]") {
  try {
    (void)spk::build_gaussian_projection(spec(0.3, 0.05), -1, 5, false, spk::Geometry::kRing, 4.0,
                                         1, 1);
    FAIL("no error");
  } catch (const spk::InvalidArgumentError& e) {
    CHECK(std::string(e.what()).find("pre -1") != std::string::npos);
  }
}
