#include "neuromod/spiking/gating.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

#include "neuromod/spiking/circuit.hpp"
#include "neuromod/spiking/connectivity.hpp"
#include "neuromod/spiking/errors.hpp"

namespace locus::neuromod::spiking {

namespace {

// Per pyramidal cell: its rate (Hz) over the measured window.
std::vector<double> pyramidal_rates(const Circuit& circuit, std::int64_t from, std::int64_t to) {
  const PopulationRange pyramidal = circuit.population(PopulationKind::kPyramidal);
  std::vector<double> rates(static_cast<std::size_t>(pyramidal.count), 0.0);
  const auto& spikes = circuit.recording().spikes;
  for (std::size_t e = 0; e < spikes.size(); ++e) {
    if (spikes.steps[e] < from || spikes.steps[e] >= to) continue;
    const std::int64_t local = spikes.neurons[e] - pyramidal.first;
    if (local >= 0 && local < pyramidal.count) rates[static_cast<std::size_t>(local)] += 1.0;
  }
  const double seconds = static_cast<double>(to - from) * circuit.config().dt / 1000.0;
  for (double& rate : rates) rate /= seconds;
  return rates;
}

CircuitConfig gating_circuit(const GatingOptions& options, double pv_strength, bool stimulus,
                             std::uint64_t seed) {
  CircuitConfig config = options.base;
  config.seed = seed;
  config.recording = RecordingOptions{.spikes = true, .weight_interval = 0.0};
  config.pyramidal_soma_drive = {.current = options.base.pyramidal_soma_drive.current,
                                 .poisson_rate = options.somatic_rate,
                                 .poisson_weight = options.somatic_weight};
  config.pyramidal_dendrite_drive = {.current = options.base.pyramidal_dendrite_drive.current,
                                     .poisson_rate = options.dendritic_rate,
                                     .poisson_weight = options.dendritic_weight};
  config.knobs.pv_strength = pv_strength;
  // The stimulus: the one input source (at the ring position neuron_position gives it). Off, it
  // is wired the same and silent, so both runs draw the same circuit.
  config.sizes.input = 1;
  config.input_rate = stimulus ? options.stimulus_rate : 0.0;
  config.projections.push_back({.pre = PopulationKind::kInput,
                                .post = PopulationKind::kPyramidal,
                                .target = Compartment::kSoma,
                                .weight = options.stimulus_weight,
                                .p_max = 1.0,
                                .sigma = options.stimulus_sigma});
  return config;
}

void check_options(const GatingOptions& options) {
  const auto positive = [](double value, const char* name) {
    if (!(std::isfinite(value) && value > 0.0)) {
      throw InvalidArgumentError(std::string("gating experiment: ") + name + " = " +
                                 std::to_string(value) + " must be finite and > 0");
    }
  };
  positive(options.stimulus_sigma, "stimulus_sigma");
  positive(options.bin_width, "bin_width");
  positive(options.duration, "duration");
  if (options.seeds.empty() || options.pv_strengths.empty()) {
    throw InvalidArgumentError("gating experiment: at least one seed and one PV strength needed");
  }
  if (options.base.geometry != Geometry::kRing) {
    throw InvalidArgumentError("gating experiment: the distance profile needs the ring geometry");
  }
}

// Each pyramidal cell's distance from the stimulus (where the one input source sits) and its
// distance bin.
struct RingBins {
  std::vector<double> distance;
  std::vector<std::size_t> bin;
  std::size_t count = 0;
};

RingBins ring_bins(std::int64_t cells, double bin_width) {
  RingBins bins;
  bins.count = static_cast<std::size_t>(std::ceil(0.5 / bin_width));
  const auto stimulus = neuron_position(Geometry::kRing, 0, 1);
  for (std::int64_t i = 0; i < cells; ++i) {
    const double d =
        wrapped_distance(Geometry::kRing, neuron_position(Geometry::kRing, i, cells), stimulus);
    bins.distance.push_back(d);
    bins.bin.push_back(std::min(bins.count - 1, static_cast<std::size_t>(d / bin_width)));
  }
  return bins;
}

// The mean of values[i] over the cells `keep` selects (NaN for none).
template <typename Keep>
double mean_where(const std::vector<double>& values, Keep keep) {
  double sum = 0.0, count = 0.0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!keep(i)) continue;
    sum += values[i];
    count += 1.0;
  }
  return count > 0.0 ? sum / count : std::nan("");
}

double sample_sd(const std::vector<double>& values) {
  if (values.size() < 2) return 0.0;
  double mean = 0.0;
  for (const double v : values) mean += v / static_cast<double>(values.size());
  double squares = 0.0;
  for (const double v : values) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / static_cast<double>(values.size() - 1));
}

// One PV strength's profile from its per-seed rates with the stimulus off and on.
GatingProfile profile_of(double pv_strength, const std::vector<std::vector<double>>& off,
                         const std::vector<std::vector<double>>& on, const RingBins& bins,
                         const GatingOptions& options) {
  const double seeds = static_cast<double>(off.size());
  const double sigma = options.stimulus_sigma;
  const auto centre = [&](std::size_t i) { return bins.distance[i] <= 2.0 * sigma; };
  const auto surround = [&](std::size_t i) {
    return bins.distance[i] >= 3.0 * sigma && bins.distance[i] <= 0.25;
  };
  GatingProfile profile{.pv_strength = pv_strength};
  profile.rate_off.assign(bins.count, 0.0);
  profile.rate_on.assign(bins.count, 0.0);
  std::vector<std::vector<double>> evoked_by_seed(bins.count);
  for (std::size_t s = 0; s < off.size(); ++s) {
    std::vector<double> evoked(off[s].size());
    for (std::size_t i = 0; i < evoked.size(); ++i) evoked[i] = on[s][i] - off[s][i];
    for (std::size_t b = 0; b < bins.count; ++b) {
      const auto in_bin = [&](std::size_t i) { return bins.bin[i] == b; };
      profile.rate_off[b] += mean_where(off[s], in_bin) / seeds;
      profile.rate_on[b] += mean_where(on[s], in_bin) / seeds;
      evoked_by_seed[b].push_back(mean_where(evoked, in_bin));
    }
    profile.centre_evoked += mean_where(evoked, centre) / seeds;
    profile.surround_evoked += mean_where(evoked, surround) / seeds;
    profile.surround_rate_off += mean_where(off[s], surround) / seeds;
  }
  for (std::size_t b = 0; b < bins.count; ++b) {
    profile.distance.push_back((static_cast<double>(b) + 0.5) * options.bin_width);
    profile.evoked.push_back(profile.rate_on[b] - profile.rate_off[b]);
    profile.evoked_sd.push_back(sample_sd(evoked_by_seed[b]));
  }
  return profile;
}

}  // namespace

std::vector<GatingProfile> run_gating_experiment(const GatingOptions& options) {
  check_options(options);
  const std::size_t n_seeds = options.seeds.size();
  // (PV strength, stimulus off/on, seed) -> each pyramidal cell's rate.
  std::vector<std::vector<double>> rates(options.pv_strengths.size() * 2 * n_seeds);
  tbb::parallel_for(std::size_t{0}, rates.size(), [&](std::size_t index) {
    const std::size_t seed = index % n_seeds;
    const bool stimulus = (index / n_seeds) % 2 == 1;
    const double pv_strength = options.pv_strengths[index / (2 * n_seeds)];
    Circuit circuit(gating_circuit(options, pv_strength, stimulus, options.seeds[seed]));
    circuit.run(options.warmup);
    const std::int64_t from = circuit.current_step();
    circuit.run(options.duration);
    rates[index] = pyramidal_rates(circuit, from, circuit.current_step());
  });
  const RingBins bins = ring_bins(options.base.sizes.pyramidal, options.bin_width);
  std::vector<GatingProfile> profiles;
  for (std::size_t pv = 0; pv < options.pv_strengths.size(); ++pv) {
    const auto first = rates.begin() + static_cast<std::ptrdiff_t>(pv * 2 * n_seeds);
    const std::vector<std::vector<double>> off(first, first + static_cast<std::ptrdiff_t>(n_seeds));
    const std::vector<std::vector<double>> on(first + static_cast<std::ptrdiff_t>(n_seeds),
                                              first + static_cast<std::ptrdiff_t>(2 * n_seeds));
    profiles.push_back(profile_of(options.pv_strengths[pv], off, on, bins, options));
  }
  return profiles;
}

}  // namespace locus::neuromod::spiking
