#pragma once
// PV gating as a spatial experiment: does raising PV inhibition silence the *neighbours* of a
// stimulated group of pyramidal cells (gating), or only lower every cell's rate? A localized
// stimulus (one Poisson source on the ring, standing for a bundle of afferents, projecting
// onto the pyramidal somata with a narrow Gaussian) is switched on and off; the evoked response of
// each pyramidal cell (rate with the stimulus minus rate without) is binned by its distance from
// the stimulus, for each PV strength. PV strength 0 is the control: without PV inhibition, what is
// left of a suppressed surround is not PV's doing.
//
// Each circuit (PV strength x stimulus on/off x seed) is independent and runs in its own TBB task;
// the results do not depend on the thread count.

#include <cstdint>
#include <vector>

#include "neuromod/spiking/experiments.hpp"

namespace locus::neuromod::spiking {

// The defaults are chosen (no paper gives them), each for the reason beside it.
struct GatingOptions {
  CircuitConfig base = GainOptions::default_experiment_circuit();  // the 500-neuron ring
  // 0 is the control (no PV inhibition); 3 is the inhibition experiment's raised strength.
  std::vector<double> pv_strengths = {0.0, 1.0, 3.0};
  // Background that makes the cells fire (11-34 Hz without the stimulus), so that a suppression
  // of the surround can show.
  double somatic_rate = 2000.0;    // Hz to every pyramidal soma
  double somatic_weight = 1.0;     // nS
  double dendritic_rate = 1000.0;  // Hz: the inhibition experiment's dendritic drive
  double dendritic_weight = 1.0;   // nS
  // A stimulus that about doubles the patch's rate (+28 Hz) without saturating it.
  double stimulus_rate = 2000.0;  // Hz of the stimulus source
  double stimulus_weight = 1.0;   // nS per stimulus spike at each target
  // A patch of about a tenth of the ring, narrower than PV's reach (the PV->E projection's sigma
  // is 0.2), so that PV can carry its effect to cells the stimulus does not touch.
  double stimulus_sigma = 0.03;  // ring circumferences
  double bin_width = 0.05;       // ring circumferences per distance bin (distances 0 to 0.5)
  double warmup = 200.0;         // ms: the other experiments' warm-up
  double duration = 1000.0;      // ms: their measured time
  std::vector<std::uint64_t> seeds = {1};
};

struct GatingProfile {
  double pv_strength = 1.0;
  std::vector<double> distance;    // bin centres (ring circumferences)
  std::vector<double> rate_off;    // Hz per pyramidal cell in the bin, stimulus off (seed mean)
  std::vector<double> rate_on;     // stimulus on
  std::vector<double> evoked;      // rate_on - rate_off
  std::vector<double> evoked_sd;   // across seeds
  double centre_evoked = 0.0;      // Hz: cells within 2 sigma of the stimulus
  double surround_evoked = 0.0;    // Hz: cells from 3 sigma to 0.25 away
  double surround_rate_off = 0.0;  // Hz: the surround's rate without the stimulus
};

// One profile per PV strength, in options.pv_strengths' order.
std::vector<GatingProfile> run_gating_experiment(const GatingOptions& options);

}  // namespace locus::neuromod::spiking
