// Single neurons of the spiking circuit against the model equations: each test integrates the
// equations of spiking/params.hpp itself (a plain Euler loop with libm's exp) or solves them
// analytically, and compares with what the circuit does.

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

#include "neuromod/spiking/circuit.hpp"
#include "neuromod/spiking/params.hpp"

namespace spk = locus::neuromod::spiking;

namespace {

// A circuit of single cells with no wiring and no noise.
spk::CircuitConfig lone_cells(std::int64_t pyramidal, std::int64_t pv, std::int64_t som) {
  spk::CircuitConfig config;
  config.sizes = {.pyramidal = pyramidal, .pv = pv, .som = som, .input = 0};
  config.projections.clear();
  config.recording.voltage_interval = config.dt;
  return config;
}

std::vector<std::int64_t> spike_steps(const spk::Circuit& circuit, std::int64_t neuron) {
  std::vector<std::int64_t> steps;
  const auto& spikes = circuit.recording().spikes;
  for (std::size_t e = 0; e < spikes.size(); ++e) {
    if (spikes.neurons[e] == neuron) steps.push_back(spikes.steps[e]);
  }
  return steps;
}

// The two-compartment pyramidal cell with constant currents, integrated independently.
struct PyramidalReference {
  std::vector<std::int64_t> spikes;
  std::vector<double> soma, dendrite;  // after each step
  int bursts_resets = 0;               // somatic spikes reset with the bursting values
  int calcium_onsets = 0;
};

PyramidalReference integrate_pyramidal(const spk::PyramidalParams& p, double coupling,
                                       double soma_current, double dendrite_current, double dt,
                                       std::int64_t steps) {
  PyramidalReference out;
  const auto& s = p.soma;
  const auto& d = p.dendrite;
  double v = s.v_rest, u = 0.0, vd = d.v_rest, ud = 0.0;
  std::int64_t last_spike = -1000000000;
  bool calcium_before = false;
  const auto bap_delay = std::llround(d.bap_delay / dt);
  const auto bap_steps = std::llround(d.bap_duration / dt);
  for (std::int64_t n = 0; n < steps; ++n) {
    const double f = 1.0 / (1.0 + std::exp((d.f_half - vd) / d.f_slope));
    // The pulse starts bap_delay after the spike, which happened at the end of step last_spike.
    const std::int64_t elapsed = n - (last_spike + 1);
    const double bap =
        elapsed >= bap_delay && elapsed < bap_delay + bap_steps ? coupling * d.bap_amplitude : 0.0;
    const double dv = (s.k * (v - s.v_rest) * (v - s.v_threshold) - u + soma_current +
                       coupling * d.soma_current * f) /
                      s.capacitance;
    const double du = s.a * (s.b * (v - s.v_rest) - u);
    const double dvd =
        (-d.leak * (vd - d.v_rest) + d.k_calcium * f + bap + ud + dendrite_current) / d.capacitance;
    const double dud = d.a * (d.b * (vd - d.v_rest) - ud);
    v += dt * dv;
    u += dt * du;
    vd += dt * dvd;
    ud += dt * dud;
    const bool calcium = vd >= d.calcium_threshold;
    if (calcium && !calcium_before) ++out.calcium_onsets;
    calcium_before = calcium;
    if (v >= s.v_peak) {
      v = calcium ? p.burst_c : s.c;
      u += calcium ? p.burst_d : s.d;
      if (calcium) ++out.bursts_resets;
      last_spike = n;
      out.spikes.push_back(n);
    }
    out.soma.push_back(v);
    out.dendrite.push_back(vd);
  }
  return out;
}

}  // namespace

TEST_CASE("a pyramidal cell follows the two-compartment equations step by step",
          "[spiking][neuron]") {
  // Somatic current alone (regular spiking), then with a dendritic current strong enough for
  // BAP-triggered calcium spikes and bursting resets, and with the coupling halved.
  struct Case {
    double soma, dendrite, coupling;
  };
  for (const Case c : {Case{800.0, 0.0, 1.0}, Case{700.0, 300.0, 1.0}, Case{900.0, 300.0, 0.5}}) {
    CAPTURE(c.soma, c.dendrite, c.coupling);
    spk::CircuitConfig config = lone_cells(1, 0, 0);
    config.pyramidal_soma_drive.current = c.soma;
    config.pyramidal_dendrite_drive.current = c.dendrite;
    config.knobs.coupling = c.coupling;
    config.recording.voltage_neurons = {0};
    spk::Circuit circuit(config);
    const std::int64_t steps = 10000;  // 1 s
    circuit.step(steps);
    const auto reference =
        integrate_pyramidal(config.pyramidal, c.coupling, c.soma, c.dendrite, config.dt, steps);
    REQUIRE(reference.spikes.size() >= 5);
    CHECK(spike_steps(circuit, 0) == reference.spikes);
    CHECK(circuit.calcium_spike_counts()[0] == reference.calcium_onsets);
    const auto& recorded = circuit.recording().voltages;
    REQUIRE(recorded.soma.size() == static_cast<std::size_t>(steps));
    double worst = 0.0;
    for (std::size_t n = 0; n < reference.soma.size(); ++n) {
      worst = std::max(worst, std::fabs(recorded.soma[n] - reference.soma[n]));
      worst = std::max(worst, std::fabs(recorded.dendrite[n] - reference.dendrite[n]));
    }
    // The circuit multiplies by 1/C and uses its own exp (within an ulp of libm's), so the
    // trajectories agree to rounding, amplified near each spike's upswing.
    CHECK(worst < 1e-6);
    if (c.dendrite > 0.0 && c.coupling == 1.0) {
      CHECK(reference.calcium_onsets > 0);
      CHECK(reference.bursts_resets > 0);
    }
  }
}

TEST_CASE("dendritic drive makes the pyramidal cell burst only when coupled", "[spiking][neuron]") {
  auto shortest_isi = [](double dendrite, double coupling) {
    spk::CircuitConfig config = lone_cells(1, 0, 0);
    config.pyramidal_soma_drive.current = 700.0;
    config.pyramidal_dendrite_drive.current = dendrite;
    config.knobs.coupling = coupling;
    spk::Circuit circuit(config);
    circuit.run(2000.0);
    const auto steps = spike_steps(circuit, 0);
    std::int64_t shortest = 1 << 30;
    for (std::size_t i = 1; i < steps.size(); ++i) {
      shortest = std::min(shortest, steps[i] - steps[i - 1]);
    }
    return static_cast<double>(shortest) * config.dt;
  };
  const double regular = shortest_isi(0.0, 1.0);
  const double bursting = shortest_isi(300.0, 1.0);
  const double decoupled = shortest_isi(300.0, 0.0);
  const double soma_alone = shortest_isi(0.0, 0.0);
  CAPTURE(regular, bursting, decoupled, soma_alone);
  CHECK(regular > 20.0);   // regular firing at this current: intervals of tens of ms
  CHECK(bursting < 10.0);  // a calcium spike gives intra-burst intervals below 10 ms
  // Decoupled (no BAP, no dendrite-to-soma current, no reset switch), the dendrite's drive does
  // not reach the soma at all.
  CHECK(decoupled == soma_alone);
}

TEST_CASE("the Izhikevich soma's rheobase matches the analytic bounds", "[spiking][neuron]") {
  // With u >= 0 (it starts at 0 and b (v - v_r) >= 0 above rest), dv/dt <= (k x (x - D) + I) / C
  // with x = v - v_r, D = v_t - v_r: below I = k D^2 / 4 there is a stable point and no spike.
  // With u at its steady state b x the cell fires tonically above I = (k D + b)^2 / (4 k).
  const spk::IzhikevichParams s = spk::pyramidal_soma_params();
  const double gap = s.v_threshold - s.v_rest;
  const double never = s.k * gap * gap / 4.0;
  const double tonic = (s.k * gap + s.b) * (s.k * gap + s.b) / (4.0 * s.k);
  auto spikes_at = [&](double current) {
    spk::CircuitConfig config = lone_cells(1, 0, 0);
    config.pyramidal_soma_drive.current = current;
    config.knobs.coupling = 0.0;  // the soma on its own
    spk::Circuit circuit(config);
    circuit.run(3000.0);
    return circuit.spike_counts()[0];
  };
  CHECK(spikes_at(0.98 * never) == 0);
  CHECK(spikes_at(1.05 * tonic) > 5);
}

TEST_CASE(
    "with a = b = d = 0 the cell is a quadratic integrate-and-fire neuron with an analytic "
    "period",
    "[spiking][neuron]") {
  // C dv/dt = k (v - v_r)(v - v_t) + I = k y^2 + q with y = v - (v_r + v_t) / 2,
  // q = I - k ((v_t - v_r) / 2)^2 > 0: from the reset c to the peak takes
  // T = C / sqrt(k q) [atan(y / sqrt(q / k))] from c to v_peak.
  spk::IzhikevichParams p = spk::pv_params();
  p.a = 0.0;
  p.b = 0.0;
  p.d = 0.0;
  const double current = 150.0;
  const double mid = 0.5 * (p.v_rest + p.v_threshold);
  const double half = 0.5 * (p.v_threshold - p.v_rest);
  const double q = current - p.k * half * half;
  REQUIRE(q > 0.0);
  const double scale = std::sqrt(q / p.k);
  const double period = p.capacitance / std::sqrt(p.k * q) *
                        (std::atan((p.v_peak - mid) / scale) - std::atan((p.c - mid) / scale));
  auto mean_isi = [&](double dt) {
    spk::CircuitConfig config = lone_cells(0, 1, 0);
    config.dt = dt;
    config.recording.voltage_interval = dt;
    config.pv = p;
    config.pv_drive.current = current;
    spk::Circuit circuit(config);
    circuit.run(1000.0);
    const auto steps = spike_steps(circuit, 0);
    REQUIRE(steps.size() > 10);
    return static_cast<double>(steps.back() - steps[1]) * dt /
           static_cast<double>(steps.size() - 2);
  };
  const double coarse = mean_isi(0.1);
  const double fine = mean_isi(0.01);
  CAPTURE(period, coarse, fine);
  // Euler's error is first order in dt (and each threshold crossing costs up to one step).
  CHECK(std::fabs(fine - period) / period < 0.01);
  CHECK(std::fabs(fine - period) < std::fabs(coarse - period));
}

TEST_CASE("PV and SOM (LTS) cells follow their Izhikevich equations", "[spiking][neuron]") {
  // SOM: Izhikevich's low-threshold-spiking cell, with peak 40 - 0.1 u, reset -53 + 0.04 u and u
  // capped at 670.
  for (const bool som : {false, true}) {
    CAPTURE(som);
    const spk::IzhikevichParams p = som ? spk::som_lts_params() : spk::pv_params();
    const double current = som ? 250.0 : 400.0;
    spk::CircuitConfig config = som ? lone_cells(0, 0, 1) : lone_cells(0, 1, 0);
    (som ? config.som_drive : config.pv_drive).current = current;
    config.recording.voltage_neurons = {0};
    spk::Circuit circuit(config);
    const std::int64_t steps = 5000;
    circuit.step(steps);
    double v = p.v_rest, u = 0.0;
    std::vector<std::int64_t> expected;
    double worst = 0.0;
    for (std::int64_t n = 0; n < steps; ++n) {
      const double dv = (p.k * (v - p.v_rest) * (v - p.v_threshold) - u + current) / p.capacitance;
      const double du = p.a * (p.b * (v - p.v_rest) - u);
      v += config.dt * dv;
      u += config.dt * du;
      if (v >= p.v_peak + p.v_peak_u_slope * u) {
        v = p.c + p.c_u_slope * u;
        u = std::min(u + p.d, p.u_max);
        expected.push_back(n);
      }
      worst = std::max(
          worst, std::fabs(v - circuit.recording().voltages.soma[static_cast<std::size_t>(n)]));
    }
    REQUIRE(expected.size() >= 3);
    CHECK(spike_steps(circuit, 0) == expected);
    CHECK(worst < 1e-6);
  }
}

TEST_CASE("AMPA and NMDA conductances open at the spike's arrival and decay as specified",
          "[spiking][neuron][synapse]") {
  // A pyramidal cell driven to fire projects onto one PV cell; the PV cell is integrated here
  // with conductances that jump delay steps after each recorded presynaptic spike.
  spk::CircuitConfig config = lone_cells(1, 1, 0);
  config.pyramidal_soma_drive.current = 900.0;
  config.knobs.coupling = 0.0;
  const double weight = 3.0;
  config.projections = {{.pre = spk::PopulationKind::kPyramidal,
                         .post = spk::PopulationKind::kPv,
                         .target = spk::Compartment::kSoma,
                         .weight = weight,
                         .p_max = 1.0,
                         .sigma = 1.0,
                         .delay = 1.5}};
  config.recording.voltage_neurons = {1};
  spk::Circuit circuit(config);
  REQUIRE(circuit.projections()[0].synapses.size() == 1);
  const std::int64_t steps = 6000;
  circuit.step(steps);
  const auto pre = spike_steps(circuit, 0);
  REQUIRE(pre.size() >= 5);

  const spk::IzhikevichParams p = spk::pv_params();
  const spk::SynapseParams syn;
  const std::int64_t delay = 15;
  double v = p.v_rest, u = 0.0, g_ampa = 0.0, g_nmda = 0.0;
  std::size_t next = 0;
  double worst = 0.0;
  std::vector<std::int64_t> post;
  for (std::int64_t n = 0; n < steps; ++n) {
    while (next < pre.size() && pre[next] + delay == n) {
      g_ampa += weight;
      g_nmda += syn.nmda_ratio * weight;
      ++next;
    }
    const double block = 1.0 / (1.0 + syn.mg_concentration / 3.57 * std::exp(-0.062 * v));
    const double current = -(g_ampa + g_nmda * block) * (v - 0.0);
    const double dv = (p.k * (v - p.v_rest) * (v - p.v_threshold) - u + current) / p.capacitance;
    const double du = p.a * (p.b * (v - p.v_rest) - u);
    v += config.dt * dv;
    u += config.dt * du;
    if (v >= p.v_peak) {
      v = p.c;
      u += p.d;
      post.push_back(n);
    }
    g_ampa *= std::exp(-config.dt / 6.0);
    g_nmda *= std::exp(-config.dt / 100.0);
    worst = std::max(worst,
                     std::fabs(v - circuit.recording().voltages.soma[static_cast<std::size_t>(n)]));
  }
  CHECK(spike_steps(circuit, 1) == post);
  CHECK(worst < 1e-6);
  // The input does something: the PV cell leaves rest.
  double highest = -1e9;
  for (const double x : circuit.recording().voltages.soma) highest = std::max(highest, x);
  CHECK(highest > p.v_rest + 1.0);
}
