#include "neuromod/spiking/csv.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <system_error>

#include "neuromod/spiking/errors.hpp"
#include "util/atomic_file.hpp"

namespace locus::neuromod::spiking {

namespace {

// Shortest text that reads back as the same double; "nan" for NaN.
std::string number(double value) {
  if (std::isnan(value)) return "nan";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  for (int precision = 6; precision < 17; ++precision) {
    char shorter[32];
    std::snprintf(shorter, sizeof shorter, "%.*g", precision, value);
    if (std::strtod(shorter, nullptr) == value) return shorter;
  }
  return buffer;
}

// Labels are written as they are, unless they need CSV quoting.
std::string field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace

void write_text_atomically(const std::filesystem::path& path, const std::string& text) {
  std::error_code ec;
  const auto folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::filesystem::create_directories(folder, ec);
  if (ec) {
    throw IoError("cannot create folder '" + folder.string() + "': " + ec.message());
  }
  util::write_file_atomically<IoError>(path, text);
}

std::string gain_curves_csv(const std::vector<GainCurve>& curves) {
  std::string out =
      "condition,dendritic_rate,coupling,som_strength,pv_strength,input,rate,rate_sd,"
      "burst_fraction,burst_spike_fraction,calcium_rate,pv_rate,som_rate\n";
  for (const auto& curve : curves) {
    const auto& c = curve.condition;
    for (const auto& p : curve.points) {
      out += field(c.label) + "," + number(c.dendritic_rate) + "," + number(c.coupling) + "," +
             number(c.som_strength) + "," + number(c.pv_strength) + "," + number(p.input) + "," +
             number(p.rate) + "," + number(p.rate_sd) + "," + number(p.burst_fraction) + "," +
             number(p.burst_spike_fraction) + "," + number(p.calcium_rate) + "," +
             number(p.pv_rate) + "," + number(p.som_rate) + "\n";
    }
  }
  return out;
}

std::string gain_summary_csv(const std::vector<GainCurve>& curves) {
  std::string out = "condition,dendritic_rate,coupling,som_strength,pv_strength,gain,threshold\n";
  for (const auto& curve : curves) {
    const auto& c = curve.condition;
    out += field(c.label) + "," + number(c.dendritic_rate) + "," + number(c.coupling) + "," +
           number(c.som_strength) + "," + number(c.pv_strength) + "," + number(curve.gain) + "," +
           number(curve.threshold) + "\n";
  }
  return out;
}

std::string gain_change_csv(const std::vector<GainComparison>& rows) {
  std::string out =
      "condition,reference,fit_from,fit_to,points,shift_only,shift_only_rms,scale_only,"
      "scale_only_rms,scale,shift,kind\n";
  for (const auto& row : rows) {
    const GainChange& c = row.change;
    out += field(row.condition) + "," + field(row.reference) + "," + number(c.fit_from) + "," +
           number(c.fit_to) + "," + std::to_string(c.points) + "," + number(c.shift_only) + "," +
           number(c.shift_only_rms) + "," + number(c.scale_only) + "," + number(c.scale_only_rms) +
           "," + number(c.scale) + "," + number(c.shift) + "," + field(c.kind) + "\n";
  }
  return out;
}

std::string plasticity_summary_csv(const std::vector<PlasticityResult>& results,
                                   double default_somatic_rate) {
  const auto somatic_rate_of = [&](const PlasticityResult& r) {
    return r.condition.somatic_rate.value_or(default_somatic_rate);
  };
  std::string out =
      "condition,dendritic_rate,coupling,plasticity,post_rate,burst_fraction,"
      "weight_change_per_s,weight_change_sd,abs_weight_change_per_s,change_per_post_spike,"
      "change_per_burst,somatic_rate\n";
  for (const auto& r : results) {
    const auto& c = r.condition;
    out += field(c.label) + "," + number(c.dendritic_rate) + "," + number(c.coupling) + "," +
           number(c.plasticity) + "," + number(r.post_rate) + "," + number(r.burst_fraction) + "," +
           number(r.weight_change_per_s) + "," + number(r.weight_change_sd) + "," +
           number(r.abs_weight_change_per_s) + "," + number(r.change_per_post_spike) + "," +
           number(r.change_per_burst) + "," + number(somatic_rate_of(r)) + "\n";
  }
  return out;
}

std::string gating_profile_csv(const std::vector<GatingProfile>& profiles) {
  std::string out = "pv_strength,distance,rate_off,rate_on,evoked,evoked_sd\n";
  for (const auto& p : profiles) {
    for (std::size_t b = 0; b < p.distance.size(); ++b) {
      out += number(p.pv_strength) + "," + number(p.distance[b]) + "," + number(p.rate_off[b]) +
             "," + number(p.rate_on[b]) + "," + number(p.evoked[b]) + "," + number(p.evoked_sd[b]) +
             "\n";
    }
  }
  return out;
}

std::string gating_summary_csv(const std::vector<GatingProfile>& profiles) {
  std::string out = "pv_strength,centre_evoked,surround_evoked,surround_rate_off\n";
  for (const auto& p : profiles) {
    out += number(p.pv_strength) + "," + number(p.centre_evoked) + "," + number(p.surround_evoked) +
           "," + number(p.surround_rate_off) + "\n";
  }
  return out;
}

std::string plasticity_weights_csv(const std::vector<PlasticityResult>& results) {
  std::string out = "condition,time,mean,min,max\n";
  for (const auto& r : results) {
    for (const auto& w : r.trajectory) {
      out += field(r.condition.label) + "," + number(w.time) + "," + number(w.mean) + "," +
             number(w.min) + "," + number(w.max) + "\n";
    }
  }
  return out;
}

std::string voltage_trace_csv(const std::string& label, const VoltageRecording& voltages,
                              bool header) {
  std::string out = header ? "label,time,neuron,soma,dendrite\n" : "";
  const std::size_t n = voltages.neurons.size();
  for (std::size_t t = 0; t < voltages.times.size(); ++t) {
    for (std::size_t k = 0; k < n; ++k) {
      out += field(label) + "," + number(voltages.times[t]) + "," +
             std::to_string(voltages.neurons[k]) + "," + number(voltages.soma[t * n + k]) + "," +
             number(voltages.dendrite[t * n + k]) + "\n";
    }
  }
  return out;
}

std::string spikes_csv(const SpikeRecording& spikes, double dt) {
  std::string out = "time,neuron\n";
  for (std::size_t e = 0; e < spikes.size(); ++e) {
    out += number(static_cast<double>(spikes.steps[e]) * dt) + "," +
           std::to_string(spikes.neurons[e]) + "\n";
  }
  return out;
}

}  // namespace locus::neuromod::spiking
