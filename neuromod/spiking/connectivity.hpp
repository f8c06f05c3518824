#pragma once
// Gaussian distance-dependent wiring on a ring or a sheet, stored by presynaptic neuron (CSR) with
// an index by postsynaptic neuron for plasticity.

#include <cstdint>
#include <utility>
#include <vector>

#include "neuromod/spiking/params.hpp"

namespace locus::neuromod::spiking {

// Position of neuron `index` of a population of `count` laid out evenly: on the ring, x in [0, 1)
// (y = 0); on the sheet, a grid of ceil(sqrt(count)) columns filled row by row on the unit torus.
std::pair<double, double> neuron_position(Geometry geometry, std::int64_t index,
                                          std::int64_t count);

// Shortest distance on the ring (circumference 1) or the unit torus.
double wrapped_distance(Geometry geometry, std::pair<double, double> a,
                        std::pair<double, double> b);

// Synapses of one projection. Synapse s of presynaptic neuron i (local index) is
// row_offsets[i] <= s < row_offsets[i + 1]; its target is post[s] (local index, ascending within a
// row). column_offsets / column_synapses list each postsynaptic neuron's incoming synapses in
// ascending presynaptic order.
struct SynapseTable {
  std::int64_t pre_count = 0;
  std::int64_t post_count = 0;
  std::vector<std::int64_t> row_offsets;      // (pre_count + 1)
  std::vector<std::int32_t> pre;              // (synapses), presynaptic local index
  std::vector<std::int32_t> post;             // (synapses)
  std::vector<double> weight;                 // (synapses), nS
  std::vector<std::int64_t> column_offsets;   // (post_count + 1)
  std::vector<std::int64_t> column_synapses;  // (synapses)

  std::int64_t size() const { return static_cast<std::int64_t>(post.size()); }
};

// Draws one projection. Presynaptic row i uses its own generator (seed, stream, i), so the result
// is the same for any thread count. `same_population` excludes self-connections.
SynapseTable build_gaussian_projection(const ProjectionSpec& spec, std::int64_t pre_count,
                                       std::int64_t post_count, bool same_population,
                                       Geometry geometry, double cutoff_sigmas, std::uint64_t seed,
                                       std::uint64_t stream);

// Expected number of inputs a postsynaptic neuron receives from a projection with these
// parameters when the populations are large (continuum limit, no cutoff): p_max n_pre sigma
// sqrt(2 pi) on the ring, p_max n_pre 2 pi sigma^2 on the sheet.
double expected_fan_in(Geometry geometry, double p_max, double sigma, std::int64_t pre_count);

}  // namespace locus::neuromod::spiking
