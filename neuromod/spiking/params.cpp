#include "neuromod/spiking/params.hpp"

#include <cmath>
#include <sstream>

#include "neuromod/spiking/errors.hpp"

namespace locus::neuromod::spiking {

IzhikevichParams pyramidal_soma_params() {
  return IzhikevichParams{};
}

IzhikevichParams pv_params() {
  return {.capacitance = 20.0,
          .k = 1.0,
          .v_rest = -55.0,
          .v_threshold = -40.0,
          .a = 0.15,
          .b = 8.0,
          .c = -55.0,
          .d = 200.0,
          .v_peak = 25.0};
}

IzhikevichParams som_lts_params() {
  return {.capacitance = 100.0,
          .k = 1.0,
          .v_rest = -56.0,
          .v_threshold = -42.0,
          .a = 0.03,
          .b = 8.0,
          .c = -53.0,
          .d = 20.0,
          .v_peak = 40.0,
          .v_peak_u_slope = -0.1,
          .c_u_slope = 0.04,
          .u_max = 670.0};
}

std::vector<ProjectionSpec> CircuitConfig::default_projections() {
  using P = PopulationKind;
  using C = Compartment;
  return {
      {.pre = P::kPyramidal,
       .post = P::kPyramidal,
       .target = C::kSoma,
       .weight = 0.5,
       .p_max = 0.3,
       .sigma = 0.05},
      {.pre = P::kPyramidal,
       .post = P::kPv,
       .target = C::kSoma,
       .weight = 0.3,
       .p_max = 0.3,
       .sigma = 0.1},
      {.pre = P::kPyramidal,
       .post = P::kSom,
       .target = C::kSoma,
       .weight = 0.3,
       .p_max = 0.3,
       .sigma = 0.1},
      {.pre = P::kPv,
       .post = P::kPyramidal,
       .target = C::kSoma,
       .weight = 2.0,
       .p_max = 0.5,
       .sigma = 0.2},
      {.pre = P::kPv,
       .post = P::kPv,
       .target = C::kSoma,
       .weight = 0.5,
       .p_max = 0.3,
       .sigma = 0.1},
      {.pre = P::kSom,
       .post = P::kPyramidal,
       .target = C::kDendrite,
       .weight = 2.0,
       .p_max = 0.5,
       .sigma = 0.1},
      {.pre = P::kSom,
       .post = P::kPv,
       .target = C::kSoma,
       .weight = 0.5,
       .p_max = 0.3,
       .sigma = 0.1},
  };
}

std::string to_string(PopulationKind kind) {
  switch (kind) {
    case PopulationKind::kPyramidal:
      return "pyr";
    case PopulationKind::kPv:
      return "pv";
    case PopulationKind::kSom:
      return "som";
    case PopulationKind::kInput:
      return "input";
  }
  return "?";
}

std::string to_string(Compartment compartment) {
  return compartment == Compartment::kSoma ? "soma" : "dendrite";
}

std::string to_string(Geometry geometry) {
  return geometry == Geometry::kRing ? "ring" : "sheet";
}

PopulationKind population_from_string(const std::string& name) {
  if (name == "pyr") return PopulationKind::kPyramidal;
  if (name == "pv") return PopulationKind::kPv;
  if (name == "som") return PopulationKind::kSom;
  if (name == "input") return PopulationKind::kInput;
  throw InvalidArgumentError("population '" + name + "' is unknown; allowed: pyr, pv, som, input");
}

Compartment compartment_from_string(const std::string& name) {
  if (name == "soma") return Compartment::kSoma;
  if (name == "dendrite") return Compartment::kDendrite;
  throw InvalidArgumentError("compartment '" + name + "' is unknown; allowed: soma, dendrite");
}

Geometry geometry_from_string(const std::string& name) {
  if (name == "ring") return Geometry::kRing;
  if (name == "sheet") return Geometry::kSheet;
  throw InvalidArgumentError("geometry '" + name + "' is unknown; allowed: ring, sheet");
}

StdpRule stdp_rule_from_string(const std::string& name) {
  if (name == "pair") return StdpRule::kPair;
  if (name == "triplet") return StdpRule::kTriplet;
  throw InvalidArgumentError("STDP rule '" + name + "' is unknown; allowed: pair, triplet");
}

namespace {

std::string format(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

void require(bool ok, const std::string& name, double value, const std::string& allowed) {
  if (!ok) {
    throw InvalidArgumentError(name + " = " + format(value) + " is not allowed; it must be " +
                               allowed);
  }
}

void require_finite(const std::string& name, double value) {
  require(std::isfinite(value), name, value, "finite");
}

void require_positive(const std::string& name, double value) {
  require(std::isfinite(value) && value > 0.0, name, value, "> 0 and finite");
}

void require_non_negative(const std::string& name, double value) {
  require(std::isfinite(value) && value >= 0.0, name, value, ">= 0 and finite");
}

void validate_izhikevich(const std::string& prefix, const IzhikevichParams& p) {
  require_positive(prefix + ".capacitance", p.capacitance);
  require_positive(prefix + ".k", p.k);
  require_finite(prefix + ".v_rest", p.v_rest);
  require(std::isfinite(p.v_threshold) && p.v_threshold > p.v_rest, prefix + ".v_threshold",
          p.v_threshold, "finite and above v_rest (" + format(p.v_rest) + ")");
  require_non_negative(prefix + ".a", p.a);
  require_finite(prefix + ".b", p.b);
  require_finite(prefix + ".c", p.c);
  require_finite(prefix + ".d", p.d);
  require(std::isfinite(p.v_peak) && p.v_peak > p.v_threshold, prefix + ".v_peak", p.v_peak,
          "finite and above v_threshold (" + format(p.v_threshold) + ")");
  require(p.c < p.v_peak, prefix + ".c", p.c, "below v_peak (" + format(p.v_peak) + ")");
  require_finite(prefix + ".v_peak_u_slope", p.v_peak_u_slope);
  require_finite(prefix + ".c_u_slope", p.c_u_slope);
  require(!std::isnan(p.u_max), prefix + ".u_max", p.u_max, "a number (infinity allowed)");
}

void validate_drive(const std::string& prefix, const Drive& drive, double dt) {
  require_finite(prefix + ".current", drive.current);
  require_non_negative(prefix + ".poisson_rate", drive.poisson_rate);
  require_non_negative(prefix + ".poisson_weight", drive.poisson_weight);
  // Poisson counts are drawn by inversion from exp(-mean); keep exp(-mean) a normal double.
  require(drive.poisson_rate * dt / 1000.0 <= 500.0, prefix + ".poisson_rate", drive.poisson_rate,
          "at most 500 / dt expected input spikes per step (" + format(500.0 / dt * 1000.0) +
              " Hz at dt = " + format(dt) + " ms)");
}

}  // namespace

void validate(const Knobs& knobs) {
  require_non_negative("knobs.dendritic_drive", knobs.dendritic_drive);
  require_non_negative("knobs.coupling", knobs.coupling);
  require_non_negative("knobs.bap", knobs.bap);
  require_non_negative("knobs.dendrite_to_soma", knobs.dendrite_to_soma);
  require_non_negative("knobs.som_strength", knobs.som_strength);
  require_non_negative("knobs.pv_strength", knobs.pv_strength);
  require_non_negative("knobs.plasticity", knobs.plasticity);
  require_finite("knobs.pulse.start", knobs.pulse.start);
  require_non_negative("knobs.pulse.duration", knobs.pulse.duration);
  require_non_negative("knobs.pulse.dendritic_drive_factor", knobs.pulse.dendritic_drive_factor);
  require_non_negative("knobs.pulse.coupling_factor", knobs.pulse.coupling_factor);
  require_non_negative("knobs.pulse.somatic_drive_factor", knobs.pulse.somatic_drive_factor);
  require_non_negative("knobs.pulse.plasticity_factor", knobs.pulse.plasticity_factor);
}

void validate(const CircuitConfig& config) {
  require(std::isfinite(config.dt) && config.dt > 0.0 && config.dt <= 1.0, "dt", config.dt,
          "in (0, 1] ms");
  const auto& sizes = config.sizes;
  require(sizes.pyramidal >= 0, "sizes.pyramidal", static_cast<double>(sizes.pyramidal), ">= 0");
  require(sizes.pv >= 0, "sizes.pv", static_cast<double>(sizes.pv), ">= 0");
  require(sizes.som >= 0, "sizes.som", static_cast<double>(sizes.som), ">= 0");
  require(sizes.input >= 0, "sizes.input", static_cast<double>(sizes.input), ">= 0");
  const std::int64_t total = sizes.pyramidal + sizes.pv + sizes.som + sizes.input;
  require(total <= (std::int64_t{1} << 30), "total neurons", static_cast<double>(total),
          "at most 2^30");
  require(config.grain >= 1, "grain", static_cast<double>(config.grain), ">= 1");

  validate_izhikevich("pyramidal.soma", config.pyramidal.soma);
  require_finite("pyramidal.burst_c", config.pyramidal.burst_c);
  require(config.pyramidal.burst_c < config.pyramidal.soma.v_peak, "pyramidal.burst_c",
          config.pyramidal.burst_c, "below the soma's v_peak");
  require_finite("pyramidal.burst_d", config.pyramidal.burst_d);
  const auto& dend = config.pyramidal.dendrite;
  require_positive("pyramidal.dendrite.capacitance", dend.capacitance);
  require_finite("pyramidal.dendrite.v_rest", dend.v_rest);
  require_non_negative("pyramidal.dendrite.leak", dend.leak);
  require_non_negative("pyramidal.dendrite.k_calcium", dend.k_calcium);
  require_non_negative("pyramidal.dendrite.bap_amplitude", dend.bap_amplitude);
  require_finite("pyramidal.dendrite.f_half", dend.f_half);
  require_positive("pyramidal.dendrite.f_slope", dend.f_slope);
  require_non_negative("pyramidal.dendrite.a", dend.a);
  require_finite("pyramidal.dendrite.b", dend.b);
  require_finite("pyramidal.dendrite.calcium_threshold", dend.calcium_threshold);
  require_non_negative("pyramidal.dendrite.bap_delay", dend.bap_delay);
  require_non_negative("pyramidal.dendrite.bap_duration", dend.bap_duration);
  require_non_negative("pyramidal.dendrite.soma_current", dend.soma_current);
  validate_izhikevich("pv", config.pv);
  validate_izhikevich("som", config.som);

  const auto& syn = config.synapses;
  require_positive("synapses.tau_ampa", syn.tau_ampa);
  require_positive("synapses.tau_nmda", syn.tau_nmda);
  require_positive("synapses.tau_gaba", syn.tau_gaba);
  require_finite("synapses.e_excitatory", syn.e_excitatory);
  require_finite("synapses.e_inhibitory", syn.e_inhibitory);
  require_non_negative("synapses.nmda_ratio", syn.nmda_ratio);
  require_non_negative("synapses.mg_concentration", syn.mg_concentration);
  require_positive("synapses.mg_half", syn.mg_half);
  require_finite("synapses.mg_slope", syn.mg_slope);

  const auto& stdp = config.stdp;
  require_positive("stdp.tau_plus", stdp.tau_plus);
  require_positive("stdp.tau_minus", stdp.tau_minus);
  require_non_negative("stdp.a_plus", stdp.a_plus);
  require_non_negative("stdp.a_minus", stdp.a_minus);
  require_positive("stdp.w_max", stdp.w_max);
  require_non_negative("stdp.learning_rate", stdp.learning_rate);
  require_positive("stdp.triplet.tau_x", stdp.triplet.tau_x);
  require_positive("stdp.triplet.tau_y", stdp.triplet.tau_y);
  require_non_negative("stdp.triplet.a2_plus", stdp.triplet.a2_plus);
  require_non_negative("stdp.triplet.a3_plus", stdp.triplet.a3_plus);
  require_non_negative("stdp.triplet.a2_minus", stdp.triplet.a2_minus);
  require_non_negative("stdp.triplet.a3_minus", stdp.triplet.a3_minus);

  validate_drive("pyramidal_soma_drive", config.pyramidal_soma_drive, config.dt);
  validate_drive("pyramidal_dendrite_drive", config.pyramidal_dendrite_drive, config.dt);
  validate_drive("pv_drive", config.pv_drive, config.dt);
  validate_drive("som_drive", config.som_drive, config.dt);
  require(std::isfinite(config.input_rate) && config.input_rate >= 0.0 &&
              config.input_rate * config.dt / 1000.0 <= 1.0,
          "input_rate", config.input_rate, "in [0, 1000 / dt] Hz (one spike per step at most)");
  require_positive("cutoff_sigmas", config.cutoff_sigmas);

  for (std::size_t i = 0; i < config.projections.size(); ++i) {
    const auto& p = config.projections[i];
    const std::string name = "projections[" + std::to_string(i) + "] (" + to_string(p.pre) +
                             " -> " + to_string(p.post) + ")";
    if (p.post == PopulationKind::kInput) {
      throw InvalidArgumentError(name +
                                 ": input populations are spike sources and cannot be "
                                 "targets; allowed targets: pyr, pv, som");
    }
    if (p.target == Compartment::kDendrite && p.post != PopulationKind::kPyramidal) {
      throw InvalidArgumentError(name +
                                 ": target 'dendrite' exists on pyramidal cells only; "
                                 "use 'soma' for " +
                                 to_string(p.post));
    }
    const bool excitatory = p.pre == PopulationKind::kPyramidal || p.pre == PopulationKind::kInput;
    if (p.plastic && !excitatory) {
      throw InvalidArgumentError(name +
                                 ": STDP applies to excitatory projections only (pre "
                                 "pyr or input), not " +
                                 to_string(p.pre));
    }
    require_non_negative(name + ".weight", p.weight);
    require(std::isfinite(p.p_max) && p.p_max >= 0.0 && p.p_max <= 1.0, name + ".p_max", p.p_max,
            "in [0, 1]");
    require_positive(name + ".sigma", p.sigma);
    require(std::isfinite(p.delay) && p.delay >= config.dt * 0.5 && p.delay <= 1000.0,
            name + ".delay", p.delay,
            "at least one step (dt = " + format(config.dt) + " ms) and at most 1000 ms");
  }
  validate(config.knobs);
  require(config.recording.voltage_interval >= config.dt * 0.5 &&
              std::isfinite(config.recording.voltage_interval),
          "recording.voltage_interval", config.recording.voltage_interval,
          "at least one step (dt = " + format(config.dt) + " ms)");
  require_non_negative("recording.weight_interval", config.recording.weight_interval);
  for (const auto id : config.recording.voltage_neurons) {
    require(id >= 0 && id < total, "recording.voltage_neurons entry", static_cast<double>(id),
            "a neuron id in [0, " + std::to_string(total) + ")");
  }
}

}  // namespace locus::neuromod::spiking
