// The whole circuit: determinism for any thread count, STDP against a computation from the
// recorded spikes, the knobs, validation and the statistics and CSV helpers.

#include <tbb/info.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "neuromod/spiking/circuit.hpp"
#include "neuromod/spiking/csv.hpp"
#include "neuromod/spiking/errors.hpp"

namespace spk = locus::neuromod::spiking;

namespace {

// A small full circuit with every population, Poisson drive everywhere and a plastic projection
// from the input sources (and the recurrent E -> E one) so that STDP runs too.
// 60 Poisson inputs (15 Hz) onto 30 driven pyramidal somata through plastic synapses of 1 nS (w_max
// 3 nS): what the STDP rule tests recompute from the recorded spikes.
spk::CircuitConfig plastic_input_circuit(std::uint64_t seed) {
  spk::CircuitConfig config;
  config.seed = seed;
  config.sizes = {.pyramidal = 30, .pv = 0, .som = 0, .input = 60};
  config.pyramidal_soma_drive = {.current = 0.0, .poisson_rate = 3000.0, .poisson_weight = 1.0};
  config.pyramidal_dendrite_drive = {.current = 0.0, .poisson_rate = 1000.0, .poisson_weight = 1.0};
  config.input_rate = 15.0;
  config.stdp.w_max = 3.0;
  config.projections = {{.pre = spk::PopulationKind::kInput,
                         .post = spk::PopulationKind::kPyramidal,
                         .target = spk::Compartment::kSoma,
                         .weight = 1.0,
                         .p_max = 0.6,
                         .sigma = 0.15,
                         .plastic = true}};
  return config;
}

spk::CircuitConfig busy_circuit(std::uint64_t seed) {
  spk::CircuitConfig config;
  config.seed = seed;
  config.sizes = {.pyramidal = 160, .pv = 20, .som = 20, .input = 40};
  config.pyramidal_soma_drive = {.current = 0.0, .poisson_rate = 2500.0, .poisson_weight = 1.0};
  config.pyramidal_dendrite_drive = {.current = 50.0, .poisson_rate = 800.0, .poisson_weight = 1.0};
  config.pv_drive = {.current = 0.0, .poisson_rate = 1000.0, .poisson_weight = 0.5};
  config.som_drive = {.current = 0.0, .poisson_rate = 1000.0, .poisson_weight = 0.5};
  config.input_rate = 20.0;
  config.projections[0].plastic = true;  // E -> E
  config.projections.push_back({.pre = spk::PopulationKind::kInput,
                                .post = spk::PopulationKind::kPyramidal,
                                .target = spk::Compartment::kDendrite,
                                .weight = 1.5,
                                .p_max = 0.5,
                                .sigma = 0.2,
                                .delay = 2.0,
                                .plastic = true});
  config.recording.voltage_neurons = {0, 17, 165, 185};
  config.recording.voltage_interval = 0.5;
  config.recording.weight_interval = 5.0;
  config.grain = 32;
  return config;
}

struct Outcome {
  spk::Recording recording;
  std::vector<std::vector<double>> weights;
  std::int64_t events = 0;
};

// More threads than cores only makes TBB warn, so the request is capped at the machine's.
int usable(int threads) {
  return std::min(threads, tbb::info::default_concurrency());
}

Outcome run_in_arena(const spk::CircuitConfig& config, int threads, double duration) {
  tbb::task_arena arena(usable(threads));
  Outcome outcome;
  arena.execute([&] {
    spk::Circuit circuit(config);
    circuit.run(duration);
    outcome.recording = circuit.recording();
    for (const auto& projection : circuit.projections()) {
      outcome.weights.push_back(projection.synapses.weight);
    }
    outcome.events = circuit.synaptic_events();
  });
  return outcome;
}

void require_identical(const Outcome& a, const Outcome& b) {
  REQUIRE(a.recording.spikes.size() > 100);
  CHECK(a.recording.spikes.steps == b.recording.spikes.steps);
  CHECK(a.recording.spikes.neurons == b.recording.spikes.neurons);
  CHECK(a.recording.calcium_spikes.neurons == b.recording.calcium_spikes.neurons);
  // Bitwise: the same operations in the same order, whatever the split across threads.
  CHECK(a.recording.voltages.soma == b.recording.voltages.soma);
  CHECK(a.recording.voltages.dendrite.size() == b.recording.voltages.dendrite.size());
  CHECK(a.weights == b.weights);
  CHECK(a.events == b.events);
}

}  // namespace

TEST_CASE("a seed gives bit-identical spikes, voltages and weights for any thread count and grain",
          "[spiking][circuit][determinism]") {
  const spk::CircuitConfig config = busy_circuit(42);
  const Outcome one = run_in_arena(config, 1, 300.0);
  require_identical(one, run_in_arena(config, 2, 300.0));
  require_identical(one, run_in_arena(config, 4, 300.0));
  spk::CircuitConfig coarse = config;
  coarse.grain = 1000;  // one chunk per population
  require_identical(one, run_in_arena(coarse, 3, 300.0));
  // The weights did move, so the comparison covered plasticity.
  bool moved = false;
  for (const double w : one.weights.back()) moved = moved || w != 1.5;
  CHECK(moved);
  // Another seed gives another run.
  const Outcome other = run_in_arena(busy_circuit(43), 2, 300.0);
  CHECK(other.recording.spikes.neurons != one.recording.spikes.neurons);
}

TEST_CASE("STDP weights equal the pair rule applied to the recorded spike trains",
          "[spiking][circuit][stdp]") {
  // Plastic input -> pyramidal synapses. The expected weight of every synapse is computed here
  // from the recorded spikes alone: all-to-all pairs with exponential traces, depression at each
  // presynaptic spike, potentiation at each postsynaptic spike (a pre and a post spike in the
  // same step do not pair), clipped to [0, w_max].
  spk::CircuitConfig config = plastic_input_circuit(9);
  config.stdp.a_plus = 0.02;
  config.stdp.a_minus = 0.015;
  config.knobs.plasticity = 1.7;  // the neuromodulatory factor multiplies the rate
  spk::Circuit circuit(config);
  const double initial = 1.0;
  circuit.run(1000.0);
  const auto& table = circuit.projections()[0].synapses;
  const auto& spikes = circuit.recording().spikes;
  const auto input = circuit.population(spk::PopulationKind::kInput);

  const double eta = config.stdp.learning_rate * config.knobs.plasticity;
  const double dt = config.dt;
  std::int64_t checked = 0, clipped = 0;
  double largest_change = 0.0;
  for (std::int64_t s = 0; s < table.size(); ++s) {
    const std::int64_t pre = input.first + table.pre[static_cast<std::size_t>(s)];
    const std::int64_t post = table.post[static_cast<std::size_t>(s)];
    std::vector<std::int64_t> pre_steps, post_steps;
    for (std::size_t e = 0; e < spikes.size(); ++e) {
      if (spikes.neurons[e] == pre) pre_steps.push_back(spikes.steps[e]);
      if (spikes.neurons[e] == post) post_steps.push_back(spikes.steps[e]);
    }
    // Walk the events in time order; within a step depression (pre) comes before potentiation.
    double w = initial;
    std::size_t a = 0, b = 0;
    while (a < pre_steps.size() || b < post_steps.size()) {
      const bool pre_next =
          b >= post_steps.size() || (a < pre_steps.size() && pre_steps[a] <= post_steps[b]);
      if (pre_next) {
        double y = 0.0;  // post trace just before this step's increments
        for (std::size_t k = 0; k < b; ++k) {
          y += std::exp(-static_cast<double>(pre_steps[a] - post_steps[k]) * dt /
                        config.stdp.tau_minus);
        }
        w = std::max(0.0, w - eta * config.stdp.a_minus * config.stdp.w_max * y);
        ++a;
      } else {
        double x = 0.0;
        for (std::size_t k = 0; k < a && pre_steps[k] < post_steps[b]; ++k) {
          x += std::exp(-static_cast<double>(post_steps[b] - pre_steps[k]) * dt /
                        config.stdp.tau_plus);
        }
        const double before = w;
        w = std::min(config.stdp.w_max, w + eta * config.stdp.a_plus * config.stdp.w_max * x);
        if (w == config.stdp.w_max &&
            before + eta * config.stdp.a_plus * config.stdp.w_max * x > config.stdp.w_max) {
          ++clipped;
        }
        ++b;
      }
    }
    CHECK(table.weight[static_cast<std::size_t>(s)] == Approx(w).margin(1e-9));
    largest_change = std::max(largest_change, std::fabs(w - initial));
    ++checked;
  }
  CAPTURE(checked, clipped, largest_change);
  CHECK(checked > 200);
  CHECK(largest_change > 0.05);  // learning happened
}

TEST_CASE("STDP weights equal the triplet rule applied to the recorded spike trains",
          "[spiking][circuit][stdp]") {
  // Pfister & Gerstner's all-to-all triplet rule recomputed from the recorded spikes: at a pre
  // spike w -= eta w_max o1 (A2- + A3- r2), at a post spike w += eta w_max r1 (A2+ + A3+ o2), the
  // slow traces r2 (pre, tau_x) and o2 (post, tau_y) read before their own spike's increment.
  spk::CircuitConfig config = plastic_input_circuit(4);
  config.stdp.rule = spk::StdpRule::kTriplet;
  config.stdp.learning_rate = 0.5;
  // Every amplitude non-zero, so that each term is checked.
  config.stdp.triplet = {.tau_x = 90.0,
                         .tau_y = 110.0,
                         .a2_plus = 0.004,
                         .a3_plus = 0.006,
                         .a2_minus = 0.007,
                         .a3_minus = 0.002};
  spk::Circuit circuit(config);
  circuit.run(1000.0);
  const auto& table = circuit.projections()[0].synapses;
  const auto& spikes = circuit.recording().spikes;
  const auto input = circuit.population(spk::PopulationKind::kInput);
  const auto& stdp = config.stdp;
  const double eta_w = stdp.learning_rate * stdp.w_max;
  const double dt = config.dt;
  // The sum of exp(-(t - t_k) / tau) over the spikes before step t (earlier steps only).
  const auto trace = [&](const std::vector<std::int64_t>& steps, std::int64_t t, double tau) {
    double sum = 0.0;
    for (const auto k : steps) {
      if (k < t) sum += std::exp(-static_cast<double>(t - k) * dt / tau);
    }
    return sum;
  };
  std::int64_t checked = 0;
  double largest_change = 0.0;
  for (std::int64_t s = 0; s < table.size(); ++s) {
    const std::int64_t pre = input.first + table.pre[static_cast<std::size_t>(s)];
    const std::int64_t post = table.post[static_cast<std::size_t>(s)];
    std::vector<std::int64_t> pre_steps, post_steps;
    for (std::size_t e = 0; e < spikes.size(); ++e) {
      if (spikes.neurons[e] == pre) pre_steps.push_back(spikes.steps[e]);
      if (spikes.neurons[e] == post) post_steps.push_back(spikes.steps[e]);
    }
    double w = 1.0;
    std::size_t a = 0, b = 0;
    while (a < pre_steps.size() || b < post_steps.size()) {
      const bool pre_next =
          b >= post_steps.size() || (a < pre_steps.size() && pre_steps[a] <= post_steps[b]);
      if (pre_next) {
        const std::int64_t t = pre_steps[a++];
        const double o1 = trace(post_steps, t, stdp.tau_minus);
        const double r2 = trace(pre_steps, t, stdp.triplet.tau_x);
        w = std::max(0.0, w - eta_w * o1 * (stdp.triplet.a2_minus + stdp.triplet.a3_minus * r2));
      } else {
        const std::int64_t t = post_steps[b++];
        const double r1 = trace(pre_steps, t, stdp.tau_plus);
        const double o2 = trace(post_steps, t, stdp.triplet.tau_y);
        w = std::min(stdp.w_max,
                     w + eta_w * r1 * (stdp.triplet.a2_plus + stdp.triplet.a3_plus * o2));
      }
    }
    CHECK(table.weight[static_cast<std::size_t>(s)] == Approx(w).margin(1e-9));
    largest_change = std::max(largest_change, std::fabs(w - 1.0));
    ++checked;
  }
  CAPTURE(checked, largest_change);
  CHECK(checked > 200);
  CHECK(largest_change > 0.05);
}

TEST_CASE("the plasticity knob at 0 freezes the weights that move at 1",
          "[spiking][circuit][stdp]") {
  // The same circuit and seed with the knob at 1 and at 0: the weights must move in the first (so
  // that the second checks the knob, not a circuit where STDP never runs) and stay put in the
  // second. Every plastic projection is checked.
  const auto weights_after = [](double knob) {
    spk::CircuitConfig config = busy_circuit(3);
    config.knobs.plasticity = knob;
    spk::Circuit circuit(config);
    circuit.run(200.0);
    std::vector<std::vector<double>> weights;
    for (const auto& projection : circuit.projections()) {
      if (projection.spec.plastic) weights.push_back(projection.synapses.weight);
    }
    return weights;
  };
  const auto learning = weights_after(1.0);
  const auto frozen = weights_after(0.0);
  const spk::CircuitConfig config = busy_circuit(3);
  REQUIRE(learning.size() == 2);  // E -> E and input -> E
  REQUIRE(frozen.size() == learning.size());
  for (std::size_t p = 0; p < learning.size(); ++p) {
    INFO("plastic projection " << p);
    const double initial = p == 0 ? config.projections[0].weight : 1.5;
    std::size_t moved = 0;
    for (const double w : learning[p]) moved += w != initial ? 1 : 0;
    CAPTURE(moved, learning[p].size());
    CHECK(moved * 10 > learning[p].size());  // more than a tenth of the synapses learned
    for (const double w : frozen[p]) REQUIRE(w == initial);
  }
}

TEST_CASE("the noradrenaline-like pulse acts inside its window only", "[spiking][circuit][knobs]") {
  spk::CircuitConfig config = busy_circuit(5);
  config.projections.pop_back();  // no input sources needed here
  config.projections[0].plastic = false;
  config.sizes.input = 0;
  config.recording.voltage_neurons.clear();
  spk::CircuitConfig pulsed = config;
  pulsed.knobs.pulse = {.start = 200.0,
                        .duration = 200.0,
                        .dendritic_drive_factor = 3.0,
                        .coupling_factor = 1.5,
                        .somatic_drive_factor = 1.0,
                        .plasticity_factor = 1.0};
  spk::Circuit plain_circuit(config), pulsed_circuit(pulsed);
  plain_circuit.run(400.0);
  pulsed_circuit.run(400.0);
  const auto pyramidal = plain_circuit.population(spk::PopulationKind::kPyramidal);
  auto stats = [&](const spk::Circuit& c, std::int64_t from, std::int64_t to) {
    return spk::spike_statistics(c.recording().spikes, pyramidal, from, to, config.dt);
  };
  // Identical before the window (same seed, same draws), more output inside it.
  auto before = [](const spk::Circuit& c) {
    std::vector<std::int32_t> ids;
    const auto& s = c.recording().spikes;
    for (std::size_t e = 0; e < s.size() && s.steps[e] < 2000; ++e) ids.push_back(s.neurons[e]);
    return ids;
  };
  CHECK(before(plain_circuit) == before(pulsed_circuit));
  const auto plain = stats(plain_circuit, 2500, 4000);
  const auto during = stats(pulsed_circuit, 2500, 4000);
  CAPTURE(plain.rate, during.rate);
  CHECK(during.rate > 1.2 * plain.rate);
  // A pulse whose factors are all 1 changes nothing at all.
  spk::CircuitConfig neutral = pulsed;
  neutral.knobs.pulse.dendritic_drive_factor = 1.0;
  neutral.knobs.pulse.coupling_factor = 1.0;
  spk::Circuit neutral_circuit(neutral);
  neutral_circuit.run(400.0);
  CHECK(neutral_circuit.recording().spikes.neurons == plain_circuit.recording().spikes.neurons);
}

TEST_CASE("knob values and parameters are validated with the value named",
          "[spiking][circuit][validation]") {
  auto message_of = [](const spk::CircuitConfig& config) {
    try {
      spk::Circuit circuit(config);
    } catch (const spk::InvalidArgumentError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  spk::CircuitConfig config;
  config.dt = 0.0;
  CHECK(message_of(config).find("dt = 0") != std::string::npos);
  config = spk::CircuitConfig{};
  config.projections[1].target = spk::Compartment::kDendrite;  // E -> PV dendrite
  CHECK(message_of(config).find("dendrite' exists on pyramidal cells only") != std::string::npos);
  config = spk::CircuitConfig{};
  config.projections[3].plastic = true;  // PV -> E
  CHECK(message_of(config).find("excitatory projections only") != std::string::npos);
  config = spk::CircuitConfig{};
  config.pv.v_peak = -60.0;
  CHECK(message_of(config).find("pv.v_peak = -60") != std::string::npos);
  config = spk::CircuitConfig{};
  config.knobs.som_strength = -1.0;
  CHECK(message_of(config).find("knobs.som_strength = -1") != std::string::npos);
  config = spk::CircuitConfig{};
  config.projections[0].delay = 0.01;
  CHECK(message_of(config).find("at least one step") != std::string::npos);

  spk::Circuit circuit(spk::CircuitConfig{});
  spk::Knobs knobs;
  knobs.coupling = std::nan("");
  CHECK_THROWS_AS(circuit.set_knobs(knobs), spk::InvalidArgumentError);
  CHECK_THROWS_AS(circuit.run(-1.0), spk::InvalidArgumentError);
  CHECK_THROWS_AS(spk::population_from_string("vip"), spk::InvalidArgumentError);
  CHECK_THROWS_WITH(circuit.set_weights(0, std::vector<double>(3, 1.0)),
                    Catch::Contains("projection 0"));
}

TEST_CASE("spike statistics count bursts as runs of short intervals", "[spiking][circuit]") {
  // Neuron 0: a burst of 3 (intervals 3 ms), then one isolated spike. Neuron 1: two isolated.
  spk::SpikeRecording spikes;
  auto add = [&](std::int64_t step, std::int32_t neuron) {
    spikes.steps.push_back(step);
    spikes.neurons.push_back(neuron);
  };
  add(100, 0);
  add(130, 0);
  add(160, 0);
  add(500, 1);
  add(900, 0);
  add(1500, 1);
  const auto stats = spk::spike_statistics(spikes, {0, 2}, 0, 10000, 0.1, 10.0);
  CHECK(stats.spikes == 6);
  CHECK(stats.events == 4);
  CHECK(stats.bursts == 1);
  CHECK(stats.spikes_in_bursts == 3);
  CHECK(stats.burst_fraction == Approx(0.25));
  CHECK(stats.rate == Approx(3.0));  // 6 spikes, 2 neurons, 1 s
}

TEST_CASE("CSV files are written whole, through a temporary file", "[spiking][csv]") {
  const auto folder =
      std::filesystem::temp_directory_path() / ("locus_spiking_csv_" + std::to_string(::getpid()));
  std::filesystem::remove_all(folder);
  spk::SpikeRecording spikes;
  spikes.steps = {1, 25};
  spikes.neurons = {3, 4};
  const auto path = folder / "nested" / "spikes.csv";
  spk::write_text_atomically(path, spk::spikes_csv(spikes, 0.1));
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str() == "time,neuron\n0.1,3\n2.5,4\n");
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder / "nested")) {
    (void)entry;
    ++files;
  }
  CHECK(files == 1);  // no temporary left behind
  std::filesystem::remove_all(folder);
  CHECK_THROWS_AS(spk::write_text_atomically("/proc/locus/x.csv", "x"), spk::IoError);
}
