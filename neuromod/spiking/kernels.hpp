#pragma once
// The circuit's per-neuron loops (internal to locus_spiking). Each kernel is compiled for AVX-512,
// AVX2 and baseline x86-64 and picked at load time (GCC target_clones); the loops contain no
// libm calls, branches or fused multiply-adds, so the variants should compute the same bits
// (only IEEE operations, each rounded once); the tests run whichever variant the CPU selects.

#include <cstdint>

#include "neuromod/spiking/rng.hpp"
#include "neuromod/spiking/vector_math.hpp"

namespace locus::neuromod::spiking::detail {

// An Izhikevich soma's constants for one step (every population has one); the reset's c and d
// are the kernel's own.
struct SomaConstants {
  double dt, k, v_rest, v_threshold, a, b, inv_c, v_peak, peak_slope, c_slope, u_max;
};

// The conductance synapses' constants for one step.
struct SynapseConstants {
  double e_exc, e_inh, nmda_ratio, mg_factor, mg_slope, decay_ampa, decay_nmda, decay_gaba;
};

// One step of neurons [begin, end) of the two-compartment pyramidal population.
struct PyramidalKernel {
  // Soma (Izhikevich) and its resets.
  SomaConstants soma;
  double c_regular, d_regular, c_burst, d_burst;
  // Dendrite.
  double inv_cd, vd_rest, leak, k_calcium, f_half, inv_f_slope, ad, bd, calcium_threshold;
  double bap_amplitude, soma_coupling, bap_from, bap_to;  // BAP window in steps since a spike
  bool coupled;  // coupling > 0 and the reset switch on: calcium spikes switch the soma to the
                 // bursting reset
  // Synapses and drive.
  SynapseConstants synapses;
  double current_soma, current_dendrite, step;
  // State (indexed by global id) and this step's inputs and outputs.
  double *v, *u, *vd, *ud, *ga, *gn, *gg, *ga_d, *gn_d, *gg_d, *last_spike, *calcium_active;
  double *in_soma_exc, *in_soma_inh, *in_dend_exc, *in_dend_inh;  // arrivals, zeroed here
  const double *poisson_soma, *poisson_dendrite;                  // indexed by global id
  double *spiked, *calcium_onset;                                 // indexed by global id
  std::int64_t begin, end;
};
void run_pyramidal_kernel(const PyramidalKernel& kernel);

// One step of Izhikevich interneurons [begin, end).
struct IzhikevichKernel {
  SomaConstants soma;
  double c, d;  // the reset
  SynapseConstants synapses;
  double current;
  double *v, *u, *ga, *gn, *gg, *in_soma_exc, *in_soma_inh;
  const double* poisson;
  double* spiked;
  std::int64_t begin, end;
};
void run_izhikevich_kernel(const IzhikevichKernel& kernel);

// out[i] = weight x Poisson count from neuron i's uniform, for i in [begin, end) (global ids).
void draw_poisson(RngBank& rng, const PoissonTable& table, double mean, double weight,
                  std::int64_t begin, std::int64_t end, double* out);

// Multiplies traces[begin, end) by decay.
void decay_traces(double* traces, double decay, std::int64_t begin, std::int64_t end);

}  // namespace locus::neuromod::spiking::detail
