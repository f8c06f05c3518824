#pragma once
// The circuit's experiments (arXiv 2507.03222's effects), as library functions that the CLI
// (`locus spiking gain|inhibition|plasticity`) and the tests share:
//   gain        output rate vs somatic input for several dendritic drives and couplings; the gain
//               is the slope of the suprathreshold part, with the burst fraction beside it;
//   inhibition  the same curves with SOM (dendrite-targeting) or PV (soma-targeting) inhibition
//               raised;
//   plasticity  weight change per second of plastic input synapses under STDP, with and without
//               dendritic drive (bursting).
// Every circuit of an experiment (condition x input x seed) is independent; they run in parallel
// TBB tasks and each result lands in its own slot, so the results are the same for any thread
// count.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "neuromod/spiking/circuit.hpp"
#include "neuromod/spiking/params.hpp"

namespace locus::neuromod::spiking {

// One curve's settings: the dendritic Poisson drive of the pyramidal cells and the knobs.
struct GainCondition {
  std::string label;
  double dendritic_rate =
      0.0;  // Hz of dendritic Poisson input (weight GainOptions::dendritic_weight)
  double coupling = 1.0;
  double som_strength = 1.0;
  double pv_strength = 1.0;
  // The coupling's paths one by one (Knobs::bap, dendrite_to_soma, reset_switch).
  double bap = 1.0;
  double dendrite_to_soma = 1.0;
  bool reset_switch = true;
};

struct GainOptions {
  CircuitConfig base = default_experiment_circuit();  // sizes, parameters and wiring
  std::vector<double> somatic_rates;                  // Hz of somatic Poisson input: the x axis
  double somatic_weight = 1.0;                        // nS per somatic input spike
  double dendritic_weight = 1.0;                      // nS per dendritic input spike
  double warmup = 200.0;                              // ms, not measured
  double duration = 1000.0;                           // ms, measured
  std::vector<std::uint64_t> seeds = {1};
  double threshold_rate = 2.0;  // Hz: the threshold is the input where the rate first reaches it
  double burst_isi = 10.0;      // ms

  // A 500-neuron ring (400 pyramidal, 50 PV, 50 SOM) with background drive to the interneurons.
  static CircuitConfig default_experiment_circuit();
};

struct GainPoint {
  double input = 0.0;           // Hz of somatic input
  double rate = 0.0;            // Hz per pyramidal cell, mean over seeds
  double rate_sd = 0.0;         // across seeds (0 with one seed)
  double burst_fraction = 0.0;  // bursts / events
  double burst_spike_fraction = 0.0;
  double calcium_rate = 0.0;             // dendritic calcium spikes per second per pyramidal cell
  double pv_rate = 0.0, som_rate = 0.0;  // Hz
};

struct GainCurve {
  GainCondition condition;
  std::vector<GainPoint> points;
  // Least-squares slope of rate against input (Hz per kHz of input) over the points at or above
  // threshold_rate, NaN with fewer than two such points.
  double gain = 0.0;
  // Input (Hz) where the mean rate first reaches threshold_rate, linearly interpolated; NaN if it
  // never does.
  double threshold = 0.0;
};

std::vector<GainCurve> run_gain_experiment(const std::vector<GainCondition>& conditions,
                                           const GainOptions& options);

// Slope of the least-squares line through (x, y) for the points with y >= min_y, NaN with fewer
// than two. Exposed for tests.
double suprathreshold_slope(const std::vector<double>& x, const std::vector<double>& y,
                            double min_y);
// First x where y reaches level (linear interpolation between neighbours), NaN if never.
double crossing_point(const std::vector<double>& x, const std::vector<double>& y, double level);

// Example voltage traces: one pyramidal cell (id 0) of the gain circuit at one somatic input rate,
// per condition, sampled every dt for `duration` ms after the warm-up (first seed).
struct ExampleTrace {
  std::string label;
  VoltageRecording voltages;
  SpikeRecording spikes;  // the recorded cell's spikes
};
std::vector<ExampleTrace> run_example_traces(const std::vector<GainCondition>& conditions,
                                             const GainOptions& options, double somatic_rate,
                                             double duration);

// Plasticity: `inputs` Poisson sources at `input_rate` project with plastic AMPA/NMDA synapses
// onto the pyramidal somata (Gaussian on the ring); the pyramidal cells get somatic background
// and, per condition, dendritic drive. Measured: mean weight change per second.
struct PlasticityCondition {
  std::string label;
  double dendritic_rate = 0.0;  // Hz
  double plasticity = 1.0;      // the neuromodulatory STDP-rate knob
  double coupling = 1.0;
  double bap = 1.0;  // the coupling's paths one by one, as GainCondition's
  double dendrite_to_soma = 1.0;
  bool reset_switch = true;
  // Hz of somatic background for this condition; unset: PlasticityOptions::somatic_rate. A tonic
  // control at the bursting condition's post rate sets it (plasticity_control.hpp).
  std::optional<double> somatic_rate;
};

struct PlasticityOptions {
  CircuitConfig base = default_plasticity_circuit();
  double somatic_rate = 1500.0;   // Hz background to each pyramidal soma
  double somatic_weight = 1.0;    // nS
  double dendritic_weight = 1.0;  // nS
  double initial_weight = 2.0;    // nS, every plastic synapse at the start
  double warmup = 200.0;          // ms with plasticity off
  double duration = 2000.0;       // ms with plasticity on
  std::vector<std::uint64_t> seeds = {1};
  double burst_isi = 10.0;  // ms

  // 100 pyramidal cells without interneurons, 200 input sources at 10 Hz, plastic input -> soma.
  static CircuitConfig default_plasticity_circuit();
};

struct PlasticityResult {
  PlasticityCondition condition;
  double post_rate = 0.0;  // Hz per pyramidal cell
  double burst_fraction = 0.0;
  double weight_change_per_s = 0.0;      // nS/s, mean over synapses (signed), mean over seeds
  double weight_change_sd = 0.0;         // across seeds
  double abs_weight_change_per_s = 0.0;  // nS/s, mean |dw| per synapse
  double change_per_post_spike = 0.0;    // nS per pyramidal spike (signed)
  double change_per_burst = 0.0;         // nS per pyramidal burst (signed; NaN without bursts)
  std::vector<WeightSample> trajectory;  // first seed's mean weight over time
};

std::vector<PlasticityResult> run_plasticity_experiment(
    const std::vector<PlasticityCondition>& conditions, const PlasticityOptions& options);

}  // namespace locus::neuromod::spiking
