#include "neuromod/spiking/experiments.hpp"

#include <tbb/parallel_for.h>

#include <cmath>
#include <limits>
#include <numeric>

#include "neuromod/spiking/errors.hpp"
#include "util/nan.hpp"

namespace locus::neuromod::spiking {

namespace {

using util::kNaN;

double mean_of(const std::vector<double>& values) {
  if (values.empty()) return 0.0;
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

double sd_of(const std::vector<double>& values) {
  if (values.size() < 2) return 0.0;
  const double m = mean_of(values);
  double sum = 0.0;
  for (const double v : values) sum += (v - m) * (v - m);
  return std::sqrt(sum / static_cast<double>(values.size() - 1));
}

void check_timing(double warmup, double duration, const char* what) {
  if (!std::isfinite(warmup) || warmup < 0.0 || !std::isfinite(duration) || duration <= 0.0) {
    throw InvalidArgumentError(std::string(what) + ": warmup " + std::to_string(warmup) +
                               " ms and duration " + std::to_string(duration) +
                               " ms are not allowed; need warmup >= 0 and duration > 0");
  }
}

void check_seeds(const std::vector<std::uint64_t>& seeds, const char* what) {
  if (seeds.empty()) {
    throw InvalidArgumentError(std::string(what) + ": at least one seed is needed, got none");
  }
}

void check_non_negative(double value, const std::string& name) {
  if (!std::isfinite(value) || value < 0.0) {
    throw InvalidArgumentError(name + " = " + std::to_string(value) +
                               " is not allowed; it must be finite and >= 0");
  }
}

// Measures one circuit: runs warmup, then duration, and returns the statistics of that window.
struct Measurement {
  double rate = 0.0, burst_fraction = 0.0, burst_spike_fraction = 0.0, calcium_rate = 0.0;
  double pv_rate = 0.0, som_rate = 0.0;
};

Measurement measure(Circuit& circuit, double warmup, double duration, double burst_isi) {
  circuit.run(warmup);
  const std::int64_t from = circuit.current_step();
  std::vector<std::int64_t> calcium_before(circuit.calcium_spike_counts().begin(),
                                           circuit.calcium_spike_counts().end());
  circuit.run(duration);
  const std::int64_t to = circuit.current_step();
  const double dt = circuit.config().dt;
  const auto& spikes = circuit.recording().spikes;
  Measurement m;
  const PopulationRange pyramidal = circuit.population(PopulationKind::kPyramidal);
  const SpikeStatistics stats = spike_statistics(spikes, pyramidal, from, to, dt, burst_isi);
  m.rate = stats.rate;
  m.burst_fraction = stats.burst_fraction;
  m.burst_spike_fraction = stats.burst_spike_fraction;
  std::int64_t calcium = 0;
  for (std::int64_t i = pyramidal.first; i < pyramidal.first + pyramidal.count; ++i) {
    calcium += circuit.calcium_spike_counts()[static_cast<std::size_t>(i)] -
               calcium_before[static_cast<std::size_t>(i)];
  }
  const double seconds = static_cast<double>(to - from) * dt / 1000.0;
  if (pyramidal.count > 0) {
    m.calcium_rate =
        static_cast<double>(calcium) / (seconds * static_cast<double>(pyramidal.count));
  }
  m.pv_rate = spike_statistics(spikes, circuit.population(PopulationKind::kPv), from, to, dt).rate;
  m.som_rate =
      spike_statistics(spikes, circuit.population(PopulationKind::kSom), from, to, dt).rate;
  return m;
}

// The coupling and its paths, which gain and plasticity conditions both set.
template <typename Condition>
void set_coupling_knobs(const Condition& condition, Knobs& knobs) {
  knobs.coupling = condition.coupling;
  knobs.bap = condition.bap;
  knobs.dendrite_to_soma = condition.dendrite_to_soma;
  knobs.reset_switch = condition.reset_switch;
}

void set_condition_knobs(const GainCondition& condition, Knobs& knobs) {
  set_coupling_knobs(condition, knobs);
  knobs.som_strength = condition.som_strength;
  knobs.pv_strength = condition.pv_strength;
}

}  // namespace

CircuitConfig GainOptions::default_experiment_circuit() {
  CircuitConfig config;
  config.sizes = {.pyramidal = 400, .pv = 50, .som = 50, .input = 0};
  config.pv_drive = {.current = 0.0, .poisson_rate = 1000.0, .poisson_weight = 0.5};
  config.som_drive = {.current = 0.0, .poisson_rate = 1000.0, .poisson_weight = 0.5};
  config.recording.weight_interval = 0.0;
  return config;
}

CircuitConfig PlasticityOptions::default_plasticity_circuit() {
  CircuitConfig config;
  config.sizes = {.pyramidal = 100, .pv = 0, .som = 0, .input = 200};
  config.input_rate = 10.0;
  config.projections = {{.pre = PopulationKind::kInput,
                         .post = PopulationKind::kPyramidal,
                         .target = Compartment::kSoma,
                         .weight = 1.0,
                         .p_max = 0.5,
                         .sigma = 0.1,
                         .delay = 1.0,
                         .plastic = true}};
  config.recording.weight_interval = 50.0;
  return config;
}

double suprathreshold_slope(const std::vector<double>& x, const std::vector<double>& y,
                            double min_y) {
  double sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (!(y[i] >= min_y)) continue;
    sx += x[i];
    sy += y[i];
    sxx += x[i] * x[i];
    sxy += x[i] * y[i];
    ++n;
  }
  if (n < 2) return kNaN;
  const double count = static_cast<double>(n);
  const double denominator = count * sxx - sx * sx;
  if (denominator == 0.0) return kNaN;
  return (count * sxy - sx * sy) / denominator;
}

double crossing_point(const std::vector<double>& x, const std::vector<double>& y, double level) {
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (y[i] < level) continue;
    if (i == 0) return x[0];
    const double fraction = (level - y[i - 1]) / (y[i] - y[i - 1]);
    return x[i - 1] + fraction * (x[i] - x[i - 1]);
  }
  return kNaN;
}

std::vector<GainCurve> run_gain_experiment(const std::vector<GainCondition>& conditions,
                                           const GainOptions& options) {
  check_timing(options.warmup, options.duration, "gain experiment");
  check_seeds(options.seeds, "gain experiment");
  if (options.somatic_rates.size() < 2) {
    throw InvalidArgumentError(
        "gain experiment: at least two somatic input rates are needed, got " +
        std::to_string(options.somatic_rates.size()));
  }
  for (double rate : options.somatic_rates) check_non_negative(rate, "somatic input rate");
  check_non_negative(options.somatic_weight, "somatic_weight");
  check_non_negative(options.dendritic_weight, "dendritic_weight");
  check_non_negative(options.threshold_rate, "threshold_rate");
  for (const auto& condition : conditions) {
    check_non_negative(condition.dendritic_rate, condition.label + ": dendritic_rate");
  }
  validate(options.base);

  const std::size_t n_points = options.somatic_rates.size();
  const std::size_t n_seeds = options.seeds.size();
  const std::size_t total = conditions.size() * n_points * n_seeds;
  std::vector<Measurement> results(total);
  tbb::parallel_for(std::size_t{0}, total, [&](std::size_t index) {
    const std::size_t seed_index = index % n_seeds;
    const std::size_t point = (index / n_seeds) % n_points;
    const GainCondition& condition = conditions[index / (n_seeds * n_points)];
    CircuitConfig config = options.base;
    config.seed = options.seeds[seed_index];
    config.recording = RecordingOptions{.spikes = true, .weight_interval = 0.0};
    config.pyramidal_soma_drive = {.current = options.base.pyramidal_soma_drive.current,
                                   .poisson_rate = options.somatic_rates[point],
                                   .poisson_weight = options.somatic_weight};
    config.pyramidal_dendrite_drive = {.current = options.base.pyramidal_dendrite_drive.current,
                                       .poisson_rate = condition.dendritic_rate,
                                       .poisson_weight = options.dendritic_weight};
    set_condition_knobs(condition, config.knobs);
    Circuit circuit(config);
    results[index] = measure(circuit, options.warmup, options.duration, options.burst_isi);
  });

  std::vector<GainCurve> curves;
  for (std::size_t c = 0; c < conditions.size(); ++c) {
    GainCurve curve;
    curve.condition = conditions[c];
    std::vector<double> inputs, rates;
    for (std::size_t p = 0; p < n_points; ++p) {
      std::vector<double> rate, burst, burst_spikes, calcium, pv, som;
      for (std::size_t s = 0; s < n_seeds; ++s) {
        const Measurement& m = results[(c * n_points + p) * n_seeds + s];
        rate.push_back(m.rate);
        burst.push_back(m.burst_fraction);
        burst_spikes.push_back(m.burst_spike_fraction);
        calcium.push_back(m.calcium_rate);
        pv.push_back(m.pv_rate);
        som.push_back(m.som_rate);
      }
      GainPoint point{.input = options.somatic_rates[p],
                      .rate = mean_of(rate),
                      .rate_sd = sd_of(rate),
                      .burst_fraction = mean_of(burst),
                      .burst_spike_fraction = mean_of(burst_spikes),
                      .calcium_rate = mean_of(calcium),
                      .pv_rate = mean_of(pv),
                      .som_rate = mean_of(som)};
      curve.points.push_back(point);
      inputs.push_back(point.input / 1000.0);  // kHz, so the gain is in Hz per kHz
      rates.push_back(point.rate);
    }
    curve.gain = suprathreshold_slope(inputs, rates, options.threshold_rate);
    curve.threshold = crossing_point(inputs, rates, options.threshold_rate) * 1000.0;
    curves.push_back(std::move(curve));
  }
  return curves;
}

std::vector<ExampleTrace> run_example_traces(const std::vector<GainCondition>& conditions,
                                             const GainOptions& options, double somatic_rate,
                                             double duration) {
  check_timing(options.warmup, duration, "example traces");
  check_seeds(options.seeds, "example traces");
  check_non_negative(somatic_rate, "somatic_rate");
  validate(options.base);
  if (options.base.sizes.pyramidal < 1) {
    throw InvalidArgumentError("example traces: the circuit needs at least one pyramidal cell");
  }
  std::vector<ExampleTrace> traces(conditions.size());
  tbb::parallel_for(std::size_t{0}, conditions.size(), [&](std::size_t c) {
    const GainCondition& condition = conditions[c];
    CircuitConfig config = options.base;
    config.seed = options.seeds.front();
    config.recording = RecordingOptions{.spikes = true,
                                        .voltage_neurons = {0},
                                        .voltage_interval = config.dt,
                                        .weight_interval = 0.0};
    config.pyramidal_soma_drive.poisson_rate = somatic_rate;
    config.pyramidal_soma_drive.poisson_weight = options.somatic_weight;
    config.pyramidal_dendrite_drive.poisson_rate = condition.dendritic_rate;
    config.pyramidal_dendrite_drive.poisson_weight = options.dendritic_weight;
    set_condition_knobs(condition, config.knobs);
    Circuit circuit(config);
    circuit.run(options.warmup);
    circuit.clear_recording();
    circuit.run(duration);
    ExampleTrace& trace = traces[c];
    trace.label = condition.label;
    trace.voltages = circuit.recording().voltages;
    const auto& spikes = circuit.recording().spikes;
    for (std::size_t e = 0; e < spikes.size(); ++e) {
      if (spikes.neurons[e] != 0) continue;
      trace.spikes.steps.push_back(spikes.steps[e]);
      trace.spikes.neurons.push_back(0);
    }
  });
  return traces;
}

std::vector<PlasticityResult> run_plasticity_experiment(
    const std::vector<PlasticityCondition>& conditions, const PlasticityOptions& options) {
  check_timing(options.warmup, options.duration, "plasticity experiment");
  check_seeds(options.seeds, "plasticity experiment");
  check_non_negative(options.somatic_rate, "somatic_rate");
  check_non_negative(options.somatic_weight, "somatic_weight");
  check_non_negative(options.dendritic_weight, "dendritic_weight");
  check_non_negative(options.initial_weight, "initial_weight");
  for (const auto& condition : conditions) {
    check_non_negative(condition.dendritic_rate, condition.label + ": dendritic_rate");
    if (condition.somatic_rate) {
      check_non_negative(*condition.somatic_rate, condition.label + ": somatic_rate");
    }
  }
  validate(options.base);
  std::vector<std::size_t> plastic;
  for (std::size_t p = 0; p < options.base.projections.size(); ++p) {
    if (options.base.projections[p].plastic) plastic.push_back(p);
  }
  if (plastic.empty()) {
    throw InvalidArgumentError(
        "plasticity experiment: the circuit has no plastic projection; "
        "set ProjectionSpec::plastic on an excitatory projection");
  }
  if (options.initial_weight > options.base.stdp.w_max) {
    throw InvalidArgumentError("plasticity experiment: initial_weight " +
                               std::to_string(options.initial_weight) + " nS exceeds stdp.w_max " +
                               std::to_string(options.base.stdp.w_max));
  }

  struct Run {
    double rate = 0.0, burst_fraction = 0.0, change = 0.0, abs_change = 0.0, per_spike = 0.0;
    double per_burst = util::kNaN;
    std::vector<WeightSample> trajectory;
  };
  const std::size_t n_seeds = options.seeds.size();
  std::vector<Run> runs(conditions.size() * n_seeds);
  tbb::parallel_for(std::size_t{0}, runs.size(), [&](std::size_t index) {
    const PlasticityCondition& condition = conditions[index / n_seeds];
    CircuitConfig config = options.base;
    config.seed = options.seeds[index % n_seeds];
    config.pyramidal_soma_drive = {
        .current = options.base.pyramidal_soma_drive.current,
        .poisson_rate = condition.somatic_rate.value_or(options.somatic_rate),
        .poisson_weight = options.somatic_weight};
    config.pyramidal_dendrite_drive = {.current = options.base.pyramidal_dendrite_drive.current,
                                       .poisson_rate = condition.dendritic_rate,
                                       .poisson_weight = options.dendritic_weight};
    set_coupling_knobs(condition, config.knobs);
    config.knobs.plasticity = 0.0;  // the warm-up settles the dynamics without learning
    Circuit circuit(config);
    std::vector<std::vector<double>> initial;
    for (const std::size_t p : plastic) {
      std::vector<double> weights(
          static_cast<std::size_t>(circuit.projections()[p].synapses.size()),
          options.initial_weight);
      circuit.set_weights(p, weights);
      initial.push_back(std::move(weights));
    }
    circuit.run(options.warmup);
    Knobs knobs = circuit.knobs();
    knobs.plasticity = condition.plasticity;
    circuit.set_knobs(knobs);
    const std::int64_t from = circuit.current_step();
    circuit.clear_recording();
    circuit.run(options.duration);
    const std::int64_t to = circuit.current_step();
    Run& run = runs[index];
    const PopulationRange pyramidal = circuit.population(PopulationKind::kPyramidal);
    const SpikeStatistics stats = spike_statistics(circuit.recording().spikes, pyramidal, from, to,
                                                   config.dt, options.burst_isi);
    run.rate = stats.rate;
    run.burst_fraction = stats.burst_fraction;
    double change = 0.0, abs_change = 0.0;
    std::size_t synapses = 0;
    for (std::size_t k = 0; k < plastic.size(); ++k) {
      const auto& weights = circuit.projections()[plastic[k]].synapses.weight;
      for (std::size_t s = 0; s < weights.size(); ++s) {
        change += weights[s] - initial[k][s];
        abs_change += std::fabs(weights[s] - initial[k][s]);
      }
      synapses += weights.size();
    }
    const double seconds = options.duration / 1000.0;
    if (synapses > 0) {
      run.change = change / static_cast<double>(synapses) / seconds;
      run.abs_change = abs_change / static_cast<double>(synapses) / seconds;
    }
    if (stats.spikes > 0) {
      run.per_spike = change / static_cast<double>(synapses) / static_cast<double>(stats.spikes) *
                      static_cast<double>(pyramidal.count);
    }
    if (stats.bursts > 0) {
      run.per_burst = change / static_cast<double>(synapses) / static_cast<double>(stats.bursts) *
                      static_cast<double>(pyramidal.count);
    }
    run.trajectory = circuit.recording().weights;
  });

  std::vector<PlasticityResult> results;
  for (std::size_t c = 0; c < conditions.size(); ++c) {
    PlasticityResult result;
    result.condition = conditions[c];
    std::vector<double> rate, burst, change, abs_change, per_spike, per_burst;
    for (std::size_t s = 0; s < n_seeds; ++s) {
      const Run& run = runs[c * n_seeds + s];
      rate.push_back(run.rate);
      burst.push_back(run.burst_fraction);
      change.push_back(run.change);
      abs_change.push_back(run.abs_change);
      per_spike.push_back(run.per_spike);
      per_burst.push_back(run.per_burst);
    }
    result.post_rate = mean_of(rate);
    result.burst_fraction = mean_of(burst);
    result.weight_change_per_s = mean_of(change);
    result.weight_change_sd = sd_of(change);
    result.abs_weight_change_per_s = mean_of(abs_change);
    result.change_per_post_spike = mean_of(per_spike);
    result.change_per_burst = mean_of(per_burst);
    result.trajectory = runs[c * n_seeds].trajectory;
    results.push_back(std::move(result));
  }
  return results;
}

}  // namespace locus::neuromod::spiking
