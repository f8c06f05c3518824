#pragma once
// Parameters of the spiking cortical microcircuit (arXiv 2507.03222, which does not publish its
// constants; the defaults are those of the closest published model, Whyte et al.'s two-compartment
// layer-5 cell, listed in this folder's README.md, "Parameters and their sources").
//
// Units everywhere: time ms, voltage mV, current pA, conductance nS, capacitance pF, rates Hz
// (nS x mV = pA, pF x mV/ms = pA). Every constant is a field with its default from that model;
// where it is silent the default's source is named beside it. validate() checks a whole
// configuration and names the first bad value and what is allowed.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace locus::neuromod::spiking {

// Izhikevich's simple model (Izhikevich 2007, "Dynamical Systems in Neuroscience", ch. 8):
//   C dv/dt = k (v - v_rest)(v - v_threshold) - u + I
//     du/dt = a (b (v - v_rest) - u)
//   if v >= v_peak + v_peak_u_slope * u:  v <- c + c_u_slope * u,  u <- min(u + d, u_max)
// The u-dependent peak and reset and the cap u_max are only used by the LTS interneuron
// (Izhikevich's own LTS cell); every other cell leaves them at 0, 0 and infinity.
struct IzhikevichParams {
  double capacitance = 150.0;                              // C, pF
  double k = 2.5;                                          // nS/mV
  double v_rest = -75.0;                                   // v_r, mV
  double v_threshold = -45.0;                              // v_t, mV
  double a = 0.01;                                         // 1/ms
  double b = 5.0;                                          // nS
  double c = -65.0;                                        // reset, mV
  double d = 250.0;                                        // pA
  double v_peak = 50.0;                                    // mV
  double v_peak_u_slope = 0.0;                             // mV/pA
  double c_u_slope = 0.0;                                  // mV/pA
  double u_max = std::numeric_limits<double>::infinity();  // pA
};

// The layer-5 pyramidal soma of Whyte et al.: C = 150, v_r = -75, v_t = -45,
// k = 2.5, a = 0.01, b = 5, c = -65, d = 250, v_peak = 50.
IzhikevichParams pyramidal_soma_params();
// PV basket cell (Whyte et al.): C = 20, v_r = -55, v_t = -40, k = 1, a = 0.15, b = 8, c = -55,
// d = 200. No peak is given there; v_peak = 25 mV is Izhikevich's (2007) fast-spiking value.
IzhikevichParams pv_params();
// SOM cell: Izhikevich's published low-threshold-spiking (LTS) interneuron of rat barrel cortex
// (Izhikevich 2007, "Dynamical Systems in Neuroscience", Fig. 8.25): C = 100, k = 1, v_r = -56,
// v_t = -42, a = 0.03, b = 8, d = 20, peak 40 - 0.1 u, reset -53 + 0.04 u, u capped at 670.
IzhikevichParams som_lts_params();

// The nonlinear calcium dendrite of the two-compartment pyramidal cell (after Naud & Sprekeler
// 2018 as used by Whyte et al.):
//   C_d dv_d/dt = -l_d (v_d - v_rd) + k_d F(v_d) + p_d BAP(t) + u_d + I_d
//       du_d/dt = a_d (b_d (v_d - v_rd) - u_d)
//   F(v) = 1 / (1 + exp((v_half - v) / slope))
// BAP(t) is 1 for bap_duration ms starting bap_delay ms after each somatic spike (the most recent
// one), else 0. A calcium spike is v_d >= calcium_threshold; while it lasts, somatic spikes reset
// to the bursting values (burst_c, burst_d) instead of (c, d). The soma of the pyramidal cell is
// the Izhikevich soma plus the dendrite-to-soma current:
//   C dv/dt = k (v - v_r)(v - v_t) - u + I + coupling g_ds F(v_d)
// The coupling knob scales p_d and g_ds; at coupling 0 the compartments are fully separate (no
// BAP, no current, no switch of the reset). Knobs::bap, dendrite_to_soma and reset_switch set each
// of the three alone.
struct DendriteParams {
  double capacitance = 170.0;        // C_d, pF
  double v_rest = -70.0;             // v_r,d, mV
  double leak = 170.0 / 7.0;         // l_d, nS (C_d / tau_d with tau_d = 7 ms)
  double k_calcium = 1200.0;         // k_d, pA
  double bap_amplitude = 2600.0;     // p_d, pA
  double f_half = -38.0;             // mV
  double f_slope = 6.0;              // mV
  double a = 1.0 / 30.0;             // a_d, 1/ms
  double b = -13.0;                  // b_d, nS
  double calcium_threshold = -30.0;  // mV
  double bap_delay = 0.5;            // ms
  double bap_duration = 2.0;         // ms
  // Dendrite-to-soma current g_ds F(v_d) (pA) added to the soma, scaled by the coupling knob.
  // Whyte et al.'s cell couples the dendrite to the soma only by switching the reset; in our runs
  // that alone barely changed the rate (same gain with and without dendritic drive), so locus adds
  // the current of Naud & Sprekeler (2018), whose dendrite those constants come from: 1300 pA. Set
  // 0 for the reset-switch-only cell.
  double soma_current = 1300.0;
};

struct PyramidalParams {
  IzhikevichParams soma = pyramidal_soma_params();
  double burst_c = -55.0;  // soma reset during a calcium spike, mV
  double burst_d = 150.0;  // soma u increment during a calcium spike, pA
  DendriteParams dendrite;
};

// Conductance-based synapses: each receptor's conductance jumps by the synaptic weight at spike
// arrival and decays exponentially. Currents: I = -g_AMPA (v - E_exc) - g_NMDA B(v) (v - E_exc)
// - g_GABA (v - E_inh), with the Jahr & Stevens (1990) magnesium block
// B(v) = 1 / (1 + [Mg] / mg_half * exp(-mg_slope v)).
struct SynapseParams {
  double tau_ampa = 6.0;        // ms (Whyte et al.)
  double tau_nmda = 100.0;      // ms (Whyte et al.)
  double tau_gaba = 6.0;        // ms (Whyte et al.)
  double e_excitatory = 0.0;    // mV
  double e_inhibitory = -70.0;  // mV (GABA_A)
  // NMDA conductance increment per unit of AMPA increment at excitatory synapses. With the 100 ms
  // decay this gives NMDA about 1.7x AMPA's charge at 0 mV, and far less near rest (Mg block).
  double nmda_ratio = 0.1;
  double mg_concentration = 1.0;  // mM
  double mg_half = 3.57;          // mM (Jahr & Stevens 1990)
  double mg_slope = 0.062;        // 1/mV (Jahr & Stevens 1990)
};

enum class PopulationKind { kPyramidal, kPv, kSom, kInput };
enum class Compartment { kSoma, kDendrite };
enum class Geometry { kRing, kSheet };

std::string to_string(PopulationKind kind);
std::string to_string(Compartment compartment);
std::string to_string(Geometry geometry);
PopulationKind population_from_string(const std::string& name);  // "pyr", "pv", "som", "input"
Compartment compartment_from_string(const std::string& name);    // "soma", "dendrite"
Geometry geometry_from_string(const std::string& name);          // "ring", "sheet"

// External drive of one compartment: a constant current plus independent Poisson spike trains
// summed into one Poisson process of rate `poisson_rate` whose spikes open AMPA conductance of
// `poisson_weight` nS each (excitatory, no NMDA part).
struct Drive {
  double current = 0.0;         // pA
  double poisson_rate = 0.0;    // Hz (total over all afferents)
  double poisson_weight = 0.0;  // nS per input spike
};

// A Gaussian, distance-dependent projection. Each population is laid out evenly on the ring
// [0, 1) (or the unit torus, for a sheet); a pre neuron connects to a post neuron at distance r
// with probability p_max exp(-r^2 / (2 sigma^2)), never to itself, and not beyond
// cutoff_sigmas * sigma. Excitatory pre populations (pyramidal, input) open AMPA (+ NMDA), the
// interneurons GABA, on the target compartment (the dendrite exists on pyramidal cells only).
struct ProjectionSpec {
  PopulationKind pre = PopulationKind::kPyramidal;
  PopulationKind post = PopulationKind::kPyramidal;
  Compartment target = Compartment::kSoma;
  double weight = 1.0;  // nS
  double p_max = 0.1;
  double sigma = 0.1;    // in units of the ring circumference / sheet side
  double delay = 1.0;    // ms, rounded to whole steps (at least one)
  bool plastic = false;  // STDP (excitatory projections only)
};

// Pair-based STDP with exponential traces (all-to-all pairing): a pre spike increments its trace
// x_pre and depresses each outgoing synapse by eta A_minus w_max y_post; a post spike increments
// y_post and potentiates each incoming synapse by eta A_plus w_max x_pre; weights are clipped to
// [0, w_max]. eta = learning_rate x the neuromodulatory plasticity knob (x the gain pulse's
// plasticity factor inside its window). Defaults: time constants of Bi & Poo (1998) as fitted by
// van Rossum et al. (2000); amplitudes chosen so that A_plus tau_plus ~ A_minus tau_minus
// (balanced, slightly depression-dominated as in Song et al. 2000).
//
// The triplet rule (StdpRule::kTriplet) is Pfister & Gerstner's (2006), all-to-all: two more slow
// traces, r2 (pre, tau_x) and o2 (post, tau_y); a pre spike depresses by
// eta w_max o1 (A2- + A3- r2), a post spike potentiates by eta w_max r1 (A2+ + A3+ o2), each slow
// trace read before its own spike's increment. A post spike shortly after other post spikes (a
// burst) potentiates more than a lone one: bursts can matter beyond their spike count, which the
// pair rule cannot express. r1 and o1 are the pair rule's traces (tau_plus, tau_minus).
enum class StdpRule { kPair, kTriplet };

// Pfister & Gerstner (2006), Table 2: visual cortex data (Sjöström et al. 2001), all-to-all
// interactions, full model; tau_plus and tau_minus there equal StdpParams' defaults.
struct TripletParams {
  double tau_x = 101.0;  // ms, slow pre trace r2
  double tau_y = 125.0;  // ms, slow post trace o2
  double a2_plus = 7.5e-10;
  double a3_plus = 9.3e-3;
  double a2_minus = 7e-3;
  double a3_minus = 2.3e-4;
};

struct StdpParams {
  double tau_plus = 16.8;   // ms, pre trace
  double tau_minus = 33.7;  // ms, post trace
  double a_plus = 0.01;
  double a_minus = 0.0051;
  double w_max = 4.0;  // nS
  double learning_rate = 1.0;
  StdpRule rule = StdpRule::kPair;
  TripletParams triplet;  // the amplitudes and slow traces of the triplet rule (a_plus and
                          // a_minus are the pair rule's)
};

StdpRule stdp_rule_from_string(const std::string& name);  // "pair" or "triplet"

// A noradrenaline-like gain pulse: inside [start, start + duration) the dendritic drive, the
// coupling, the somatic drive and the plasticity rate are multiplied by these factors. The
// default factors are chosen, not published: a pulse that doubles the dendritic drive and
// tightens the coupling by half, the two knobs through which noradrenaline acts on the dendrite
// in the paper's account.
struct GainPulse {
  double start = 0.0;     // ms
  double duration = 0.0;  // ms; 0 disables the pulse
  double dendritic_drive_factor = 2.0;
  double coupling_factor = 1.5;
  double somatic_drive_factor = 1.0;
  double plasticity_factor = 1.0;
};

// Neuromodulation knobs; they may change between runs of the same circuit.
struct Knobs {
  double dendritic_drive = 1.0;  // multiplies the pyramidal dendrites' drive (current and rate)
  double coupling = 1.0;         // multiplies the BAP amplitude and the dendrite-to-soma current
  // The coupling's three paths one by one (each on top of `coupling`), so that an effect can be
  // traced to one of them: the back-propagating spike's amplitude p_d, the dendrite-to-soma
  // current g_ds, and the switch of the soma to the bursting reset during calcium spikes.
  double bap = 1.0;
  double dendrite_to_soma = 1.0;
  bool reset_switch = true;
  double som_strength = 1.0;  // multiplies every SOM synapse
  double pv_strength = 1.0;   // multiplies every PV synapse
  double plasticity = 1.0;    // multiplies the STDP rate (e.g. a dopamine/ACh level)
  GainPulse pulse;
};

struct PopulationSizes {
  std::int64_t pyramidal = 400;
  std::int64_t pv = 50;
  std::int64_t som = 50;
  std::int64_t input = 0;  // Poisson spike sources (e.g. plastic afferents)
};

struct RecordingOptions {
  bool spikes = true;                         // every spike: (step, neuron)
  std::vector<std::int64_t> voltage_neurons;  // global ids whose voltages are sampled
  double voltage_interval = 0.1;              // ms between voltage samples
  double weight_interval = 10.0;              // ms between plastic-weight summaries (0: none)
};

struct CircuitConfig {
  PopulationSizes sizes;
  Geometry geometry = Geometry::kRing;
  double dt = 0.1;  // ms
  std::uint64_t seed = 1;
  PyramidalParams pyramidal;
  IzhikevichParams pv = pv_params();
  IzhikevichParams som = som_lts_params();
  SynapseParams synapses;
  StdpParams stdp;
  Drive pyramidal_soma_drive;
  Drive pyramidal_dendrite_drive;
  Drive pv_drive;
  Drive som_drive;
  double input_rate = 10.0;  // Hz, each Poisson source
  std::vector<ProjectionSpec> projections = default_projections();
  double cutoff_sigmas = 4.0;
  Knobs knobs;
  RecordingOptions recording;
  // Neurons per TBB task. Results do not depend on it (nor on the thread count).
  std::int64_t grain = 256;

  // The cortical microcircuit's wiring: E->E, E->PV, E->SOM (AMPA+NMDA on somata), PV->E (soma),
  // PV->PV, SOM->E (dendrite), SOM->PV (GABA). Chosen, not published: see README.md here.
  static std::vector<ProjectionSpec> default_projections();
};

// Throws InvalidArgumentError naming the first bad value and what is allowed.
void validate(const CircuitConfig& config);
void validate(const Knobs& knobs);

}  // namespace locus::neuromod::spiking
