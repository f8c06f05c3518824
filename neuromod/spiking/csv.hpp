#pragma once
// CSV output of the spiking experiments, written atomically (temporary file + rename), so a reader
// never sees half a file.

#include <filesystem>
#include <string>
#include <vector>

#include "neuromod/spiking/circuit.hpp"
#include "neuromod/spiking/experiments.hpp"
#include "neuromod/spiking/gain_change.hpp"
#include "neuromod/spiking/gating.hpp"

namespace locus::neuromod::spiking {

// Writes `text` to `path` through a temporary file in the same folder and a rename; creates the
// folder. Throws IoError naming the path and the reason.
void write_text_atomically(const std::filesystem::path& path, const std::string& text);

// One row per (curve, input): condition,dendritic_rate,coupling,som_strength,pv_strength,input,
// rate,rate_sd,burst_fraction,burst_spike_fraction,calcium_rate,pv_rate,som_rate
std::string gain_curves_csv(const std::vector<GainCurve>& curves);
// One row per curve: condition,dendritic_rate,coupling,som_strength,pv_strength,gain,threshold
std::string gain_summary_csv(const std::vector<GainCurve>& curves);
// One row per comparison: condition,reference,fit_from,fit_to,points,shift_only,shift_only_rms,
// scale_only,scale_only_rms,scale,shift,kind
std::string gain_change_csv(const std::vector<GainComparison>& rows);
// One row per condition: condition,dendritic_rate,coupling,plasticity,post_rate,burst_fraction,
// weight_change_per_s,weight_change_sd,abs_weight_change_per_s,change_per_post_spike,
// change_per_burst,somatic_rate
std::string plasticity_summary_csv(const std::vector<PlasticityResult>& results,
                                   double default_somatic_rate);
// One row per (PV strength, distance bin): pv_strength,distance,rate_off,rate_on,evoked,evoked_sd
std::string gating_profile_csv(const std::vector<GatingProfile>& profiles);
// One row per PV strength: pv_strength,centre_evoked,surround_evoked,surround_rate_off
std::string gating_summary_csv(const std::vector<GatingProfile>& profiles);
// condition,time,mean,min,max: the first seed's plastic weights over time
std::string plasticity_weights_csv(const std::vector<PlasticityResult>& results);
// label,time,neuron,soma,dendrite (one row per sample and neuron)
std::string voltage_trace_csv(const std::string& label, const VoltageRecording& voltages,
                              bool header = true);
// time,neuron (ms, global id)
std::string spikes_csv(const SpikeRecording& spikes, double dt);

}  // namespace locus::neuromod::spiking
