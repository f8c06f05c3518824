#include "neuromod/spiking/circuit.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "neuromod/spiking/errors.hpp"
#include "neuromod/spiking/kernels.hpp"
#include "util/nan.hpp"

namespace locus::neuromod::spiking {

namespace {

using util::kNaN;
constexpr std::int64_t kChannels = 4;
constexpr std::int64_t kSomaExcitatory = 0;
constexpr std::int64_t kSomaInhibitory = 1;
constexpr std::int64_t kDendriteExcitatory = 2;
constexpr std::int64_t kDendriteInhibitory = 3;
// Seed streams, so that wiring, neuron noise and input sources never share a generator.
constexpr std::uint64_t kNeuronStream = 1;
constexpr std::uint64_t kProjectionStreamBase = 1000;
constexpr double kNeverSpiked = -1e9;  // steps; far enough back that no BAP is due

std::int64_t whole_steps(double duration, double dt) {
  return static_cast<std::int64_t>(std::llround(duration / dt));
}

bool is_excitatory(PopulationKind kind) {
  return kind == PopulationKind::kPyramidal || kind == PopulationKind::kInput;
}

}  // namespace

// A drive as it applies during one step: the scaled current and the Poisson input spikes. (Outside
// the anonymous namespace: Circuit::StepInputs, which has external linkage, holds four.)
namespace detail {
struct StepDrive {
  double current = 0.0;
  double mean = 0.0;    // expected input spikes per step
  double weight = 0.0;  // nS per input spike
  const PoissonTable* table = nullptr;

  bool active() const { return mean > 0.0 && weight != 0.0; }
};
}  // namespace detail
using detail::StepDrive;

// Everything that is constant during one step, computed once from the knobs and the pulse.
struct Circuit::StepInputs {
  std::int64_t step = 0;
  std::int64_t read_slot = 0;
  double decay_ampa = 1.0, decay_nmda = 1.0, decay_gaba = 1.0;
  double decay_pre = 1.0, decay_post = 1.0;
  double decay_pre_slow = 1.0, decay_post_slow = 1.0;  // the triplet rule's r2 and o2
  StepDrive soma, dendrite, pv, som;
  double coupling = 1.0;
  double input_probability = 0.0;
  double plasticity = 1.0;
};

namespace {

// The kernels' constants of soma `p` for steps of `dt` ms.
detail::SomaConstants soma_constants(const IzhikevichParams& p, double dt) {
  return {.dt = dt,
          .k = p.k,
          .v_rest = p.v_rest,
          .v_threshold = p.v_threshold,
          .a = p.a,
          .b = p.b,
          .inv_c = 1.0 / p.capacitance,
          .v_peak = p.v_peak,
          .peak_slope = p.v_peak_u_slope,
          .c_slope = p.c_u_slope,
          .u_max = p.u_max};
}

// The kernels' synapse constants of `syn` with this step's conductance decays.
detail::SynapseConstants synapse_constants(const SynapseParams& syn, double decay_ampa,
                                           double decay_nmda, double decay_gaba) {
  return {.e_exc = syn.e_excitatory,
          .e_inh = syn.e_inhibitory,
          .nmda_ratio = syn.nmda_ratio,
          .mg_factor = syn.mg_concentration / syn.mg_half,
          .mg_slope = syn.mg_slope,
          .decay_ampa = decay_ampa,
          .decay_nmda = decay_nmda,
          .decay_gaba = decay_gaba};
}

}  // namespace

void Circuit::decay_chunk_traces(const StepInputs& in, std::int64_t begin, std::int64_t end) {
  if (!plastic_) return;
  detail::decay_traces(trace_pre_.data(), in.decay_pre, begin, end);
  detail::decay_traces(trace_post_.data(), in.decay_post, begin, end);
  if (!trace_pre_slow_.empty()) {
    detail::decay_traces(trace_pre_slow_.data(), in.decay_pre_slow, begin, end);
    detail::decay_traces(trace_post_slow_.data(), in.decay_post_slow, begin, end);
  }
}

const PoissonTable& Circuit::poisson_table(std::size_t which, double mean) {
  PoissonTable& table = poisson_tables_[which];
  if (table.mean != mean) table.build(mean);
  return table;
}

Circuit::Circuit(CircuitConfig config) : config_(std::move(config)) {
  validate(config_);
  const auto& sizes = config_.sizes;
  pyramidal_ = {0, sizes.pyramidal};
  pv_ = {pyramidal_.first + pyramidal_.count, sizes.pv};
  som_ = {pv_.first + pv_.count, sizes.som};
  input_ = {som_.first + som_.count, sizes.input};
  total_ = input_.first + input_.count;

  const auto n = static_cast<std::size_t>(total_);
  const auto n_pyr = static_cast<std::size_t>(pyramidal_.count);
  v_.assign(n, kNaN);
  u_.assign(n, 0.0);
  for (std::int64_t i = 0; i < total_; ++i) {
    if (i < pv_.first) {
      v_[static_cast<std::size_t>(i)] = config_.pyramidal.soma.v_rest;
    } else if (i < som_.first) {
      v_[static_cast<std::size_t>(i)] = config_.pv.v_rest;
    } else if (i < input_.first) {
      v_[static_cast<std::size_t>(i)] = config_.som.v_rest;
    }
  }
  g_ampa_.assign(n, 0.0);
  g_nmda_.assign(n, 0.0);
  g_gaba_.assign(n, 0.0);
  v_dend_.assign(n_pyr, config_.pyramidal.dendrite.v_rest);
  u_dend_.assign(n_pyr, 0.0);
  g_ampa_dend_.assign(n_pyr, 0.0);
  g_nmda_dend_.assign(n_pyr, 0.0);
  g_gaba_dend_.assign(n_pyr, 0.0);
  last_spike_step_.assign(n_pyr, kNeverSpiked);
  calcium_active_.assign(n_pyr, 0.0);
  rng_ = RngBank(config_.seed, kNeuronStream, n);
  spike_counts_.assign(n, 0);
  calcium_counts_.assign(n, 0);
  bap_delay_steps_ = whole_steps(config_.pyramidal.dendrite.bap_delay, config_.dt);
  bap_duration_steps_ = whole_steps(config_.pyramidal.dendrite.bap_duration, config_.dt);
  voltage_every_ =
      std::max<std::int64_t>(1, whole_steps(config_.recording.voltage_interval, config_.dt));
  weight_every_ =
      config_.recording.weight_interval > 0.0
          ? std::max<std::int64_t>(1, whole_steps(config_.recording.weight_interval, config_.dt))
          : 0;
  recording_.voltages.neurons = config_.recording.voltage_neurons;

  // Fixed chunks: each population split into pieces of at most `grain` neurons, in id order.
  const std::pair<PopulationKind, PopulationRange> populations[] = {
      {PopulationKind::kPyramidal, pyramidal_},
      {PopulationKind::kPv, pv_},
      {PopulationKind::kSom, som_},
      {PopulationKind::kInput, input_}};
  for (const auto& [kind, range] : populations) {
    for (std::int64_t begin = range.first; begin < range.first + range.count;
         begin += config_.grain) {
      chunks_.push_back({kind, begin, std::min(begin + config_.grain, range.first + range.count)});
    }
  }
  chunk_outputs_.resize(chunks_.size());
  for (std::size_t c = 0; c < chunks_.size(); ++c) {
    const auto length = static_cast<std::size_t>(chunks_[c].end - chunks_[c].begin);
    chunk_outputs_[c].spiked.assign(length, 0.0);
    chunk_outputs_[c].calcium_onset.assign(length, 0.0);
  }

  build_projections();
}

void Circuit::build_projections() {
  std::int64_t max_delay = 1;
  for (std::size_t p = 0; p < config_.projections.size(); ++p) {
    const ProjectionSpec& spec = config_.projections[p];
    const PopulationRange pre = population(spec.pre);
    const PopulationRange post = population(spec.post);
    Projection projection;
    projection.spec = spec;
    projection.delay_steps = std::max<std::int64_t>(1, whole_steps(spec.delay, config_.dt));
    projection.synapses = build_gaussian_projection(
        spec, pre.count, post.count, spec.pre == spec.post, config_.geometry, config_.cutoff_sigmas,
        config_.seed, kProjectionStreamBase + p);
    max_delay = std::max(max_delay, projection.delay_steps);
    plastic_ = plastic_ || spec.plastic;
    projections_.push_back(std::move(projection));
  }
  slots_ = max_delay + 1;
  arrivals_.assign(static_cast<std::size_t>(slots_ * total_ * kChannels), 0.0);
  if (plastic_) {
    trace_pre_.assign(static_cast<std::size_t>(total_), 0.0);
    trace_post_.assign(static_cast<std::size_t>(total_), 0.0);
    if (config_.stdp.rule == StdpRule::kTriplet) {
      trace_pre_slow_.assign(static_cast<std::size_t>(total_), 0.0);
      trace_post_slow_.assign(static_cast<std::size_t>(total_), 0.0);
    }
  }
}

PopulationRange Circuit::population(PopulationKind kind) const {
  switch (kind) {
    case PopulationKind::kPyramidal:
      return pyramidal_;
    case PopulationKind::kPv:
      return pv_;
    case PopulationKind::kSom:
      return som_;
    case PopulationKind::kInput:
      return input_;
  }
  return {};
}

void Circuit::set_knobs(const Knobs& knobs) {
  validate(knobs);
  config_.knobs = knobs;
}

void Circuit::set_weights(std::size_t projection, std::span<const double> weights) {
  if (projection >= projections_.size()) {
    throw InvalidArgumentError("projection index " + std::to_string(projection) +
                               " is out of range; the circuit has " +
                               std::to_string(projections_.size()) + " projections");
  }
  auto& table = projections_[projection].synapses;
  if (static_cast<std::int64_t>(weights.size()) != table.size()) {
    throw InvalidArgumentError("set_weights: got " + std::to_string(weights.size()) +
                               " weights for projection " + std::to_string(projection) +
                               ", which has " + std::to_string(table.size()) + " synapses");
  }
  for (const double w : weights) {
    if (!std::isfinite(w) || w < 0.0) {
      throw InvalidArgumentError("set_weights: weight " + std::to_string(w) +
                                 " is not allowed; weights must be finite and >= 0 nS");
    }
  }
  std::copy(weights.begin(), weights.end(), table.weight.begin());
}

void Circuit::clear_recording() {
  recording_ = Recording{};
  recording_.voltages.neurons = config_.recording.voltage_neurons;
}

double Circuit::soma_voltage(std::int64_t neuron) const {
  return v_.at(static_cast<std::size_t>(neuron));
}
double Circuit::recovery(std::int64_t neuron) const {
  return neuron >= input_.first ? kNaN : u_.at(static_cast<std::size_t>(neuron));
}
double Circuit::dendrite_voltage(std::int64_t neuron) const {
  return neuron < pyramidal_.count ? v_dend_.at(static_cast<std::size_t>(neuron)) : kNaN;
}
double Circuit::dendrite_recovery(std::int64_t neuron) const {
  return neuron < pyramidal_.count ? u_dend_.at(static_cast<std::size_t>(neuron)) : kNaN;
}

void Circuit::run(double duration_ms) {
  if (!std::isfinite(duration_ms) || duration_ms < 0.0) {
    throw InvalidArgumentError("run: duration " + std::to_string(duration_ms) +
                               " ms is not allowed; it must be finite and >= 0");
  }
  step(whole_steps(duration_ms, config_.dt));
}

void Circuit::step(std::int64_t steps) {
  if (steps < 0) {
    throw InvalidArgumentError("step: " + std::to_string(steps) + " steps; must be >= 0");
  }
  for (std::int64_t i = 0; i < steps; ++i) advance_one_step();
}

void Circuit::advance_one_step() {
  const double dt = config_.dt;
  const Knobs& knobs = config_.knobs;
  const double t = static_cast<double>(step_) * dt;
  const GainPulse& pulse = knobs.pulse;
  const bool in_pulse =
      pulse.duration > 0.0 && t >= pulse.start && t < pulse.start + pulse.duration;

  StepInputs in;
  in.step = step_;
  in.read_slot = step_ % slots_;
  in.decay_ampa = std::exp(-dt / config_.synapses.tau_ampa);
  in.decay_nmda = std::exp(-dt / config_.synapses.tau_nmda);
  in.decay_gaba = std::exp(-dt / config_.synapses.tau_gaba);
  in.decay_pre = std::exp(-dt / config_.stdp.tau_plus);
  in.decay_post = std::exp(-dt / config_.stdp.tau_minus);
  in.decay_pre_slow = std::exp(-dt / config_.stdp.triplet.tau_x);
  in.decay_post_slow = std::exp(-dt / config_.stdp.triplet.tau_y);
  auto drive = [&](std::size_t which, const Drive& d, double factor) {
    StepDrive out;
    out.current = d.current * factor;
    out.mean = d.poisson_rate * factor * dt / 1000.0;
    out.weight = d.poisson_weight;
    out.table = &poisson_table(which, out.mean);
    return out;
  };
  in.soma = drive(0, config_.pyramidal_soma_drive, in_pulse ? pulse.somatic_drive_factor : 1.0);
  in.dendrite = drive(1, config_.pyramidal_dendrite_drive,
                      knobs.dendritic_drive * (in_pulse ? pulse.dendritic_drive_factor : 1.0));
  in.pv = drive(2, config_.pv_drive, 1.0);
  in.som = drive(3, config_.som_drive, 1.0);
  in.coupling = knobs.coupling * (in_pulse ? pulse.coupling_factor : 1.0);
  in.input_probability = config_.input_rate * dt / 1000.0;
  in.plasticity =
      config_.stdp.learning_rate * knobs.plasticity * (in_pulse ? pulse.plasticity_factor : 1.0);

  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, chunks_.size(), 1),
      [&](const tbb::blocked_range<std::size_t>& range) {
        for (std::size_t c = range.begin(); c != range.end(); ++c) {
          const Chunk& chunk = chunks_[c];
          ChunkOutput& out = chunk_outputs_[c];
          out.spikes.clear();
          out.calcium.clear();
          switch (chunk.kind) {
            case PopulationKind::kPyramidal:
              update_pyramidal(in, chunk, out);
              break;
            case PopulationKind::kPv:
            case PopulationKind::kSom:
              update_interneurons(in, chunk, out);
              break;
            case PopulationKind::kInput:
              update_inputs(in, chunk, out);
              break;
          }
        }
      },
      tbb::simple_partitioner());

  spikes_.clear();
  for (const auto& out : chunk_outputs_) {
    spikes_.insert(spikes_.end(), out.spikes.begin(), out.spikes.end());
  }
  for (const auto neuron : spikes_) ++spike_counts_[static_cast<std::size_t>(neuron)];
  if (config_.recording.spikes) {
    for (const auto neuron : spikes_) {
      recording_.spikes.steps.push_back(step_);
      recording_.spikes.neurons.push_back(neuron);
    }
  }
  for (const auto& out : chunk_outputs_) {
    for (const auto neuron : out.calcium) {
      ++calcium_counts_[static_cast<std::size_t>(neuron)];
      if (config_.recording.spikes) {
        recording_.calcium_spikes.steps.push_back(step_);
        recording_.calcium_spikes.neurons.push_back(neuron);
      }
    }
  }
  deliver_and_learn(in);
  ++step_;
  record_after_step();
}

void Circuit::update_pyramidal(const StepInputs& in, const Chunk& chunk, ChunkOutput& out) {
  const IzhikevichParams& s = config_.pyramidal.soma;
  const DendriteParams& d = config_.pyramidal.dendrite;
  const std::int64_t begin = chunk.begin, end = chunk.end;
  const auto length = static_cast<std::size_t>(end - begin);
  // Poisson input first (one uniform per neuron and drive, in that order), then the membranes.
  out.drive_soma.assign(length, 0.0);
  out.drive_dendrite.assign(length, 0.0);
  if (in.soma.active()) {
    detail::draw_poisson(rng_, *in.soma.table, in.soma.mean, in.soma.weight, begin, end,
                         out.drive_soma.data() - begin);
  }
  if (in.dendrite.active()) {
    detail::draw_poisson(rng_, *in.dendrite.table, in.dendrite.mean, in.dendrite.weight, begin, end,
                         out.drive_dendrite.data() - begin);
  }
  double* slot = arrivals_.data() + in.read_slot * kChannels * total_;
  const detail::PyramidalKernel kernel{
      .soma = soma_constants(s, config_.dt),
      .c_regular = s.c,
      .d_regular = s.d,
      .c_burst = config_.pyramidal.burst_c,
      .d_burst = config_.pyramidal.burst_d,
      .inv_cd = 1.0 / d.capacitance,
      .vd_rest = d.v_rest,
      .leak = d.leak,
      .k_calcium = d.k_calcium,
      .f_half = d.f_half,
      .inv_f_slope = 1.0 / d.f_slope,
      .ad = d.a,
      .bd = d.b,
      .calcium_threshold = d.calcium_threshold,
      .bap_amplitude = d.bap_amplitude * in.coupling * config_.knobs.bap,
      .soma_coupling = d.soma_current * in.coupling * config_.knobs.dendrite_to_soma,
      .bap_from = static_cast<double>(bap_delay_steps_),
      .bap_to = static_cast<double>(bap_delay_steps_ + bap_duration_steps_),
      .coupled = in.coupling > 0.0 && config_.knobs.reset_switch,
      .synapses = synapse_constants(config_.synapses, in.decay_ampa, in.decay_nmda, in.decay_gaba),
      .current_soma = in.soma.current,
      .current_dendrite = in.dendrite.current,
      .step = static_cast<double>(in.step),
      .v = v_.data(),
      .u = u_.data(),
      .vd = v_dend_.data(),
      .ud = u_dend_.data(),
      .ga = g_ampa_.data(),
      .gn = g_nmda_.data(),
      .gg = g_gaba_.data(),
      .ga_d = g_ampa_dend_.data(),
      .gn_d = g_nmda_dend_.data(),
      .gg_d = g_gaba_dend_.data(),
      .last_spike = last_spike_step_.data(),
      .calcium_active = calcium_active_.data(),
      .in_soma_exc = slot + kSomaExcitatory * total_,
      .in_soma_inh = slot + kSomaInhibitory * total_,
      .in_dend_exc = slot + kDendriteExcitatory * total_,
      .in_dend_inh = slot + kDendriteInhibitory * total_,
      .poisson_soma = out.drive_soma.data() - begin,
      .poisson_dendrite = out.drive_dendrite.data() - begin,
      .spiked = out.spiked.data() - begin,
      .calcium_onset = out.calcium_onset.data() - begin,
      .begin = begin,
      .end = end};
  detail::run_pyramidal_kernel(kernel);
  decay_chunk_traces(in, begin, end);
  for (std::int64_t i = begin; i < end; ++i) {
    const auto local = static_cast<std::size_t>(i - begin);
    if (out.spiked[local] != 0.0) out.spikes.push_back(static_cast<std::int32_t>(i));
    if (out.calcium_onset[local] != 0.0) out.calcium.push_back(static_cast<std::int32_t>(i));
  }
}

void Circuit::update_interneurons(const StepInputs& in, const Chunk& chunk, ChunkOutput& out) {
  const IzhikevichParams& p = chunk.kind == PopulationKind::kPv ? config_.pv : config_.som;
  const StepDrive& drive = chunk.kind == PopulationKind::kPv ? in.pv : in.som;
  const std::int64_t begin = chunk.begin, end = chunk.end;
  out.drive_soma.assign(static_cast<std::size_t>(end - begin), 0.0);
  if (drive.active()) {
    detail::draw_poisson(rng_, *drive.table, drive.mean, drive.weight, begin, end,
                         out.drive_soma.data() - begin);
  }
  double* slot = arrivals_.data() + in.read_slot * kChannels * total_;
  const detail::IzhikevichKernel kernel{
      .soma = soma_constants(p, config_.dt),
      .c = p.c,
      .d = p.d,
      .synapses = synapse_constants(config_.synapses, in.decay_ampa, in.decay_nmda, in.decay_gaba),
      .current = drive.current,
      .v = v_.data(),
      .u = u_.data(),
      .ga = g_ampa_.data(),
      .gn = g_nmda_.data(),
      .gg = g_gaba_.data(),
      .in_soma_exc = slot + kSomaExcitatory * total_,
      .in_soma_inh = slot + kSomaInhibitory * total_,
      .poisson = out.drive_soma.data() - begin,
      .spiked = out.spiked.data() - begin,
      .begin = begin,
      .end = end};
  detail::run_izhikevich_kernel(kernel);
  decay_chunk_traces(in, begin, end);
  for (std::int64_t i = begin; i < end; ++i) {
    if (out.spiked[static_cast<std::size_t>(i - begin)] != 0.0) {
      out.spikes.push_back(static_cast<std::int32_t>(i));
    }
  }
}

void Circuit::update_inputs(const StepInputs& in, const Chunk& chunk, ChunkOutput& out) {
  const std::int64_t begin = chunk.begin, end = chunk.end;
  for (std::int64_t i = begin; i < end; ++i) {
    if (rng_.uniform(static_cast<std::size_t>(i)) < in.input_probability) {
      out.spikes.push_back(static_cast<std::int32_t>(i));
    }
  }
  decay_chunk_traces(in, begin, end);
}

void Circuit::deliver_and_learn(const StepInputs& in) {
  if (spikes_.empty()) return;
  const StdpParams& stdp = config_.stdp;
  const bool triplet = stdp.rule == StdpRule::kTriplet;
  const double scale_w = in.plasticity * stdp.w_max;
  // Per spike: the pair rule's fixed amplitudes, or the triplet rule's, which grow with the
  // spiking neuron's own slow trace (read before this step's increments).
  const auto depression_at = [&](std::int64_t pre_neuron) {
    if (!triplet) return scale_w * stdp.a_minus;
    return scale_w *
           (stdp.triplet.a2_minus +
            stdp.triplet.a3_minus * trace_pre_slow_[static_cast<std::size_t>(pre_neuron)]);
  };
  const auto potentiation_at = [&](std::int64_t post_neuron) {
    if (!triplet) return scale_w * stdp.a_plus;
    return scale_w *
           (stdp.triplet.a2_plus +
            stdp.triplet.a3_plus * trace_post_slow_[static_cast<std::size_t>(post_neuron)]);
  };
  const bool learning = scale_w > 0.0;
  for (Projection& projection : projections_) {
    const ProjectionSpec& spec = projection.spec;
    const PopulationRange pre = population(spec.pre);
    const PopulationRange post = population(spec.post);
    if (pre.count == 0 || post.count == 0) continue;
    const bool excitatory = is_excitatory(spec.pre);
    const std::int64_t channel = spec.target == Compartment::kSoma
                                     ? (excitatory ? kSomaExcitatory : kSomaInhibitory)
                                     : (excitatory ? kDendriteExcitatory : kDendriteInhibitory);
    const double scale = spec.pre == PopulationKind::kPv    ? config_.knobs.pv_strength
                         : spec.pre == PopulationKind::kSom ? config_.knobs.som_strength
                                                            : 1.0;
    const std::int64_t slot = (in.step + projection.delay_steps) % slots_;
    double* arrivals = arrivals_.data() + (slot * kChannels + channel) * total_;
    SynapseTable& table = projection.synapses;
    // Spikes are ascending, so each population's spikes form one run.
    const auto first = std::lower_bound(spikes_.begin(), spikes_.end(), pre.first);
    const auto last = std::lower_bound(first, spikes_.end(), pre.first + pre.count);
    for (auto it = first; it != last; ++it) {
      const auto i = static_cast<std::size_t>(*it - pre.first);
      const std::int64_t row_begin = table.row_offsets[i];
      const std::int64_t row_end = table.row_offsets[i + 1];
      synaptic_events_ += row_end - row_begin;
      for (std::int64_t s = row_begin; s < row_end; ++s) {
        const auto target = post.first + table.post[static_cast<std::size_t>(s)];
        arrivals[target] += scale * table.weight[static_cast<std::size_t>(s)];
      }
      if (spec.plastic && learning) {
        const double depression = depression_at(*it);
        for (std::int64_t s = row_begin; s < row_end; ++s) {
          double& w = table.weight[static_cast<std::size_t>(s)];
          const auto target = post.first + table.post[static_cast<std::size_t>(s)];
          w = std::max(0.0, w - depression * trace_post_[static_cast<std::size_t>(target)]);
        }
      }
    }
    if (spec.plastic && learning) {
      const auto post_first = std::lower_bound(spikes_.begin(), spikes_.end(), post.first);
      const auto post_last = std::lower_bound(post_first, spikes_.end(), post.first + post.count);
      for (auto it = post_first; it != post_last; ++it) {
        const auto j = static_cast<std::size_t>(*it - post.first);
        const double potentiation = potentiation_at(*it);
        for (std::int64_t c = table.column_offsets[j]; c < table.column_offsets[j + 1]; ++c) {
          const auto s =
              static_cast<std::size_t>(table.column_synapses[static_cast<std::size_t>(c)]);
          double& w = table.weight[s];
          const auto source = pre.first + table.pre[s];
          w = std::min(stdp.w_max, w + potentiation * trace_pre_[static_cast<std::size_t>(source)]);
        }
      }
    }
  }
  bump_traces();
}

// Traces jump after the weight updates: a pre and a post spike in the same step do not pair.
void Circuit::bump_traces() {
  if (!plastic_) return;
  const bool triplet = !trace_pre_slow_.empty();
  for (const auto neuron : spikes_) {
    const auto i = static_cast<std::size_t>(neuron);
    trace_pre_[i] += 1.0;
    trace_post_[i] += 1.0;
    if (triplet) {
      trace_pre_slow_[i] += 1.0;
      trace_post_slow_[i] += 1.0;
    }
  }
}

void Circuit::record_after_step() {
  const auto& ids = recording_.voltages.neurons;
  if (!ids.empty() && step_ % voltage_every_ == 0) {
    recording_.voltages.times.push_back(time());
    for (const auto id : ids) {
      recording_.voltages.soma.push_back(v_[static_cast<std::size_t>(id)]);
      recording_.voltages.dendrite.push_back(dendrite_voltage(id));
    }
  }
  if (weight_every_ > 0 && step_ % weight_every_ == 0) {
    for (std::size_t p = 0; p < projections_.size(); ++p) {
      if (!projections_[p].spec.plastic) continue;
      const auto& weights = projections_[p].synapses.weight;
      WeightSample sample{.time = time(), .projection = p};
      if (!weights.empty()) {
        double sum = 0.0;
        sample.min = weights.front();
        sample.max = weights.front();
        for (const double w : weights) {
          sum += w;
          sample.min = std::min(sample.min, w);
          sample.max = std::max(sample.max, w);
        }
        sample.mean = sum / static_cast<double>(weights.size());
      }
      recording_.weights.push_back(sample);
    }
  }
}

SpikeStatistics spike_statistics(const SpikeRecording& spikes, PopulationRange neurons,
                                 std::int64_t step_from, std::int64_t step_to, double dt,
                                 double burst_isi) {
  if (!(dt > 0.0) || step_to < step_from || neurons.count < 0 || burst_isi < 0.0) {
    throw InvalidArgumentError(
        "spike_statistics: need dt > 0, step_to >= step_from, count >= 0 "
        "and burst_isi >= 0; got dt " +
        std::to_string(dt) + ", steps [" + std::to_string(step_from) + ", " +
        std::to_string(step_to) + "), count " + std::to_string(neurons.count));
  }
  SpikeStatistics stats;
  const auto n = static_cast<std::size_t>(neurons.count);
  std::vector<std::int64_t> last_spike(n, std::numeric_limits<std::int64_t>::min());
  std::vector<std::int64_t> run_length(n, 0);
  const auto max_gap = static_cast<std::int64_t>(std::floor(burst_isi / dt + 1e-9));
  auto close_event = [&](std::size_t k) {
    if (run_length[k] == 0) return;
    ++stats.events;
    if (run_length[k] >= 2) {
      ++stats.bursts;
      stats.spikes_in_bursts += run_length[k];
    }
    run_length[k] = 0;
  };
  for (std::size_t e = 0; e < spikes.size(); ++e) {
    const std::int64_t step = spikes.steps[e];
    const std::int64_t id = spikes.neurons[e];
    if (step < step_from || step >= step_to) continue;
    if (id < neurons.first || id >= neurons.first + neurons.count) continue;
    const auto k = static_cast<std::size_t>(id - neurons.first);
    ++stats.spikes;
    if (run_length[k] > 0 && step - last_spike[k] > max_gap) close_event(k);
    ++run_length[k];
    last_spike[k] = step;
  }
  for (std::size_t k = 0; k < n; ++k) close_event(k);
  const double seconds = static_cast<double>(step_to - step_from) * dt / 1000.0;
  if (neurons.count > 0 && seconds > 0.0) {
    stats.rate = static_cast<double>(stats.spikes) / (seconds * static_cast<double>(n));
  }
  if (stats.events > 0) {
    stats.burst_fraction = static_cast<double>(stats.bursts) / static_cast<double>(stats.events);
  }
  if (stats.spikes > 0) {
    stats.burst_spike_fraction =
        static_cast<double>(stats.spikes_in_bursts) / static_cast<double>(stats.spikes);
  }
  return stats;
}

}  // namespace locus::neuromod::spiking
