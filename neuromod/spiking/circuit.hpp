#pragma once
// The spiking cortical microcircuit: two-compartment Izhikevich layer-5 pyramidal cells, PV and
// SOM interneurons, Poisson spike sources, conductance-based AMPA/NMDA/GABA synapses with
// Gaussian wiring, pair-based STDP and neuromodulation knobs (arXiv 2507.03222; params.hpp).
//
// Integration: explicit Euler at dt for the membrane equations (as Izhikevich does), exact
// exponential decay for conductances and STDP traces. One step n (from t = n dt to (n + 1) dt):
//   1. spikes arriving now (sent at step n - delay) and this step's Poisson drive open
//      conductances; 2. every neuron is advanced (TBB over fixed chunks of neurons; each neuron
//      draws only from its own generator); 3. spikes, collected in neuron order, are sent into the
//      delay buffer and drive STDP, one after another in a fixed order.
// A spike is stamped with the step n in which v crossed the peak (time n dt, Brian2's
// convention) and arrives delay / dt steps later. So for a given seed every result (spikes,
// voltages, weights) is bit-identical for any thread count.
//
// Global neuron ids: pyramidal cells first, then PV, SOM, and the input sources.

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "neuromod/spiking/connectivity.hpp"
#include "neuromod/spiking/params.hpp"
#include "neuromod/spiking/rng.hpp"
#include "neuromod/spiking/vector_math.hpp"

namespace locus::neuromod::spiking {

struct SpikeRecording {
  std::vector<std::int64_t> steps;    // step of each spike, ascending
  std::vector<std::int32_t> neurons;  // global id, ascending within a step
  std::size_t size() const { return steps.size(); }
};

struct VoltageRecording {
  std::vector<std::int64_t> neurons;  // the recorded global ids
  std::vector<double> times;          // ms, after the step that was sampled
  std::vector<double> soma;           // (samples, neurons), mV
  std::vector<double> dendrite;       // (samples, neurons), mV; NaN for non-pyramidal cells
};

// Summary of one plastic projection's weights at one time.
struct WeightSample {
  double time = 0.0;  // ms
  std::size_t projection = 0;
  double mean = 0.0, min = 0.0, max = 0.0;  // nS
};

struct Recording {
  SpikeRecording spikes;
  SpikeRecording calcium_spikes;  // onsets of dendritic calcium spikes (pyramidal cells)
  VoltageRecording voltages;
  std::vector<WeightSample> weights;
};

struct Projection {
  ProjectionSpec spec;
  SynapseTable synapses;
  std::int64_t delay_steps = 1;
};

struct PopulationRange {
  std::int64_t first = 0;
  std::int64_t count = 0;
};

class Circuit {
 public:
  // Validates the configuration (InvalidArgumentError), lays out the populations and draws the
  // wiring from config.seed.
  explicit Circuit(CircuitConfig config);

  // Advances by round(duration / dt) steps.
  void run(double duration_ms);
  void step(std::int64_t steps = 1);

  std::int64_t current_step() const { return step_; }
  double time() const { return static_cast<double>(step_) * config_.dt; }
  const CircuitConfig& config() const { return config_; }

  const Knobs& knobs() const { return config_.knobs; }
  // Validated; takes effect from the next step.
  void set_knobs(const Knobs& knobs);

  PopulationRange population(PopulationKind kind) const;
  std::int64_t neuron_count() const { return total_; }

  const std::vector<Projection>& projections() const { return projections_; }
  // Replaces a projection's weights (e.g. to start STDP from chosen values); sizes must match and
  // values be finite and >= 0.
  void set_weights(std::size_t projection, std::span<const double> weights);

  const Recording& recording() const { return recording_; }
  void clear_recording();

  // Counters since construction, per global id: somatic spikes, and calcium-spike onsets
  // (pyramidal cells; zero elsewhere).
  std::span<const std::int64_t> spike_counts() const { return spike_counts_; }
  std::span<const std::int64_t> calcium_spike_counts() const { return calcium_counts_; }
  // Spikes delivered to synapses so far (one per synapse per presynaptic spike).
  std::int64_t synaptic_events() const { return synaptic_events_; }

  // Current state (global id). The dendrite's is NaN for non-pyramidal cells; input sources have
  // no membrane (NaN).
  double soma_voltage(std::int64_t neuron) const;
  double recovery(std::int64_t neuron) const;
  double dendrite_voltage(std::int64_t neuron) const;
  double dendrite_recovery(std::int64_t neuron) const;

 private:
  struct Chunk {
    PopulationKind kind;
    std::int64_t begin, end;  // global ids
  };
  struct StepInputs;

  struct ChunkOutput {
    std::vector<double> spiked, calcium_onset;  // (chunk neurons) 1.0 or 0.0, this step (double:
                                                // the flag stores then vectorize with the math)
    std::vector<std::int32_t> spikes, calcium;  // ids, this step
    std::vector<double> drive_soma, drive_dendrite;  // (chunk neurons) Poisson conductance, nS
  };

  void build_projections();
  void advance_one_step();
  void update_pyramidal(const StepInputs& in, const Chunk& chunk, ChunkOutput& out);
  void update_interneurons(const StepInputs& in, const Chunk& chunk, ChunkOutput& out);
  void update_inputs(const StepInputs& in, const Chunk& chunk, ChunkOutput& out);
  // Decays the STDP traces of neurons [begin, end) by this step's factors (when plastic).
  void decay_chunk_traces(const StepInputs& in, std::int64_t begin, std::int64_t end);
  const PoissonTable& poisson_table(std::size_t which, double mean);
  void deliver_and_learn(const StepInputs& in);
  void bump_traces();
  void record_after_step();

  CircuitConfig config_;
  std::int64_t total_ = 0;
  std::int64_t step_ = 0;
  PopulationRange pyramidal_, pv_, som_, input_;
  std::vector<Chunk> chunks_;
  std::vector<ChunkOutput> chunk_outputs_;
  std::array<PoissonTable, 4> poisson_tables_;  // pyramidal soma, dendrite, PV, SOM drives
  std::vector<std::int32_t> spikes_;            // this step, ascending

  // Neuron state, (neurons). Somatic variables for every cell with a membrane, indexed by global
  // id; dendritic ones for pyramidal cells (same index, pyramidal ids start at 0).
  std::vector<double> v_, u_;
  std::vector<double> g_ampa_, g_nmda_, g_gaba_;
  std::vector<double> v_dend_, u_dend_;
  std::vector<double> g_ampa_dend_, g_nmda_dend_, g_gaba_dend_;
  std::vector<double> last_spike_step_;  // a double, so the loop compares it in SIMD registers
  std::vector<double> calcium_active_;   // 1.0 while v_dend >= the calcium threshold
  RngBank rng_;
  std::vector<double> trace_pre_, trace_post_;  // STDP traces (neurons), when any projection is
                                                // plastic
  std::vector<double> trace_pre_slow_, trace_post_slow_;  // the triplet rule's r2 and o2
  bool plastic_ = false;

  // Spikes in flight: (slots, neurons, 4) conductance increments, channels soma excitatory, soma
  // inhibitory, dendrite excitatory, dendrite inhibitory. Slot (n mod slots) is read at step n.
  std::vector<double> arrivals_;
  std::int64_t slots_ = 1;

  std::vector<Projection> projections_;
  std::vector<std::int64_t> spike_counts_, calcium_counts_;
  std::int64_t synaptic_events_ = 0;
  std::int64_t bap_delay_steps_ = 0, bap_duration_steps_ = 0;
  std::int64_t voltage_every_ = 1, weight_every_ = 0;
  Recording recording_;
};

// Firing statistics of neurons [first, first + count) from recorded spikes in steps
// [step_from, step_to). An event is a run of spikes whose inter-spike intervals are all at most
// burst_isi ms; a burst is an event of two or more spikes.
struct SpikeStatistics {
  std::int64_t spikes = 0, events = 0, bursts = 0, spikes_in_bursts = 0;
  double rate = 0.0;                  // Hz per neuron
  double burst_fraction = 0.0;        // bursts / events (0 with no events)
  double burst_spike_fraction = 0.0;  // spikes in bursts / spikes
};
SpikeStatistics spike_statistics(const SpikeRecording& spikes, PopulationRange neurons,
                                 std::int64_t step_from, std::int64_t step_to, double dt,
                                 double burst_isi = 10.0);

}  // namespace locus::neuromod::spiking
