// Spiking-circuit throughput of locus: simulated neuron-steps per second and synaptic events per
// second for circuits of N neurons (80% two-compartment pyramidal cells, 10% PV, 10% SOM) on a
// ring, with Poisson drive to every cell, conductance synapses and fixed delays; STDP off.
// bench/perf/run_spiking_bench.py runs Brian2 on the same network (exported with --export) and
// duration beside it and reports the ratios.
//
// The network at every size: the default projections (neuromod/spiking/params.cpp) with p_max
// scaled so that each projection's expected fan-in is 4x that of the 500-neuron experiment
// circuit, and weights divided by 4 (the same mean input, about 100 synapses per neuron).
//
// Method, identical for the peers: the circuit is built before the clock starts; one untimed
// warm-up run of the same duration on a separate circuit, then `repeats` timed runs, each on a
// freshly built circuit (same seed); the median is the figure. Each run is timed twice: wall clock,
// and process CPU time (std::clock, which is what Brian2's C++ standalone reports as its run
// time). On a shared machine the CPU time of a one-thread run is the robust figure; the wall
// clock is the one that counts for several threads.

#include <tbb/global_control.h>
#include <tbb/info.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench/harness/program.hpp"
#include "measurement.hpp"
#include "neuromod/spiking/circuit.hpp"
#include "neuromod/spiking/connectivity.hpp"

using locus::bench_perf::median;

namespace {

namespace spk = locus::neuromod::spiking;
using json = nlohmann::json;

constexpr double kFanInFactor = 4.0;
constexpr std::int64_t kReferencePyramidal = 400, kReferenceInterneurons = 50;

spk::CircuitConfig benchmark_circuit(std::int64_t neurons, std::uint64_t seed) {
  spk::CircuitConfig config;
  config.seed = seed;
  config.sizes.pyramidal = neurons * 8 / 10;
  config.sizes.pv = neurons / 10;
  config.sizes.som = neurons - config.sizes.pyramidal - config.sizes.pv;
  config.sizes.input = 0;
  config.pyramidal_soma_drive = {.current = 0.0, .poisson_rate = 2000.0, .poisson_weight = 1.0};
  config.pyramidal_dendrite_drive = {.current = 0.0, .poisson_rate = 1000.0, .poisson_weight = 1.0};
  config.pv_drive = {.current = 0.0, .poisson_rate = 1000.0, .poisson_weight = 0.5};
  config.som_drive = {.current = 0.0, .poisson_rate = 1000.0, .poisson_weight = 0.5};
  config.recording.spikes = true;
  config.recording.weight_interval = 0.0;
  for (auto& p : config.projections) {
    const double reference_pre = p.pre == spk::PopulationKind::kPyramidal
                                     ? static_cast<double>(kReferencePyramidal)
                                     : static_cast<double>(kReferenceInterneurons);
    const auto pre = p.pre == spk::PopulationKind::kPyramidal ? config.sizes.pyramidal
                     : p.pre == spk::PopulationKind::kPv      ? config.sizes.pv
                                                              : config.sizes.som;
    p.p_max = std::min(1.0, p.p_max * kFanInFactor * reference_pre / static_cast<double>(pre));
    p.weight /= kFanInFactor;
  }
  return config;
}

void write_binary(const std::filesystem::path& path, const void* data, std::size_t bytes) {
  locus::util::write_file_atomically<std::runtime_error>(
      path, std::string_view(static_cast<const char*>(data), bytes));
}

// The network for the peers: per projection the synapses' (pre, post) local indices as int32
// files, and a JSON file with every parameter the peers need.
void export_network(const spk::Circuit& circuit, const std::filesystem::path& folder) {
  std::filesystem::create_directories(folder);
  const auto& c = circuit.config();
  json doc;
  doc["dt"] = c.dt;
  doc["sizes"] = {{"pyr", c.sizes.pyramidal}, {"pv", c.sizes.pv}, {"som", c.sizes.som}};
  const auto& s = c.pyramidal.soma;
  const auto& d = c.pyramidal.dendrite;
  doc["pyramidal"] = {{"C", s.capacitance},
                      {"k", s.k},
                      {"vr", s.v_rest},
                      {"vt", s.v_threshold},
                      {"a", s.a},
                      {"b", s.b},
                      {"c", s.c},
                      {"d", s.d},
                      {"vpeak", s.v_peak},
                      {"cb", c.pyramidal.burst_c},
                      {"db", c.pyramidal.burst_d},
                      {"Cd", d.capacitance},
                      {"vrd", d.v_rest},
                      {"ld", d.leak},
                      {"kd", d.k_calcium},
                      {"pd", d.bap_amplitude},
                      {"fh", d.f_half},
                      {"fs", d.f_slope},
                      {"ad", d.a},
                      {"bd", d.b},
                      {"ca", d.calcium_threshold},
                      {"bap_delay", d.bap_delay},
                      {"bap_duration", d.bap_duration},
                      {"gds", d.soma_current}};
  auto izh = [](const spk::IzhikevichParams& p) {
    return json{{"C", p.capacitance},
                {"k", p.k},
                {"vr", p.v_rest},
                {"vt", p.v_threshold},
                {"a", p.a},
                {"b", p.b},
                {"c", p.c},
                {"d", p.d},
                {"vpeak", p.v_peak},
                {"peak_slope", p.v_peak_u_slope},
                {"c_slope", p.c_u_slope},
                {"umax", std::isfinite(p.u_max) ? p.u_max : 1e300}};
  };
  doc["pv"] = izh(c.pv);
  doc["som"] = izh(c.som);
  const auto& syn = c.synapses;
  doc["synapses"] = {
      {"tau_ampa", syn.tau_ampa},   {"tau_nmda", syn.tau_nmda},  {"tau_gaba", syn.tau_gaba},
      {"e_exc", syn.e_excitatory},  {"e_inh", syn.e_inhibitory}, {"nmda_ratio", syn.nmda_ratio},
      {"mg", syn.mg_concentration}, {"mg_half", syn.mg_half},    {"mg_slope", syn.mg_slope}};
  auto drive = [](const spk::Drive& x) {
    return json{{"current", x.current}, {"rate", x.poisson_rate}, {"weight", x.poisson_weight}};
  };
  doc["drives"] = {{"pyr_soma", drive(c.pyramidal_soma_drive)},
                   {"pyr_dendrite", drive(c.pyramidal_dendrite_drive)},
                   {"pv", drive(c.pv_drive)},
                   {"som", drive(c.som_drive)}};
  json projections = json::array();
  for (std::size_t p = 0; p < circuit.projections().size(); ++p) {
    const auto& projection = circuit.projections()[p];
    const auto& table = projection.synapses;
    const std::string stem = "projection" + std::to_string(p);
    write_binary(folder / (stem + "_pre.i32"), table.pre.data(), table.pre.size() * 4);
    write_binary(folder / (stem + "_post.i32"), table.post.data(), table.post.size() * 4);
    projections.push_back({{"pre", spk::to_string(projection.spec.pre)},
                           {"post", spk::to_string(projection.spec.post)},
                           {"target", spk::to_string(projection.spec.target)},
                           {"weight", projection.spec.weight},
                           {"delay_steps", projection.delay_steps},
                           {"synapses", table.size()},
                           {"files", {stem + "_pre.i32", stem + "_post.i32"}}});
  }
  doc["projections"] = projections;
  locus::bench::write_results(doc, (folder / "network.json").string());
}

}  // namespace

namespace {

int benchmark_main(int argc, char** argv) {
  CLI::App app{"locus spiking-circuit throughput (neuron-steps/s, synaptic events/s)"};
  std::vector<std::int64_t> sizes = {1000, 10000};
  std::vector<int> threads = {1, 2};
  double duration = 1000.0;
  int repeats = 5;
  std::uint64_t seed = 1;
  std::string export_folder, json_path;
  app.add_option("--neurons", sizes, "Circuit sizes")->delimiter(',')->capture_default_str();
  app.add_option("--threads", threads, "Thread counts")->delimiter(',')->capture_default_str();
  app.add_option("--duration", duration, "Simulated ms per run")->capture_default_str();
  app.add_option("--repeats", repeats, "Timed runs (median)")->capture_default_str();
  app.add_option("--seed", seed, "Seed of the network and the drive")->capture_default_str();
  app.add_option("--export", export_folder,
                 "Write each size's network for the peers into FOLDER/n<N>/ and exit");
  app.add_option("--json", json_path, "Write the results as JSON to this file");
  CLI11_PARSE(app, argc, argv);

  if (!export_folder.empty()) {
    for (const auto n : sizes) {
      spk::Circuit circuit(benchmark_circuit(n, seed));
      export_network(circuit, std::filesystem::path(export_folder) / ("n" + std::to_string(n)));
      std::cerr << "exported n=" << n << " to " << export_folder << "\n";
    }
    return 0;
  }

  json results = json::array();
  for (const auto n : sizes) {
    for (const int t : threads) {
      tbb::global_control limit(tbb::global_control::max_allowed_parallelism,
                                static_cast<std::size_t>(t));
      std::vector<double> seconds, cpu_seconds, rates;
      std::int64_t events = 0, steps = 0, synapses = 0;
      for (int r = -1; r < repeats; ++r) {  // r = -1: warm-up
        spk::Circuit circuit(benchmark_circuit(n, seed));
        const std::clock_t cpu_start = std::clock();
        const auto start = std::chrono::steady_clock::now();
        circuit.run(duration);
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
        if (r < 0) continue;
        seconds.push_back(elapsed);
        cpu_seconds.push_back(cpu);
        events = circuit.synaptic_events();
        steps = circuit.current_step();
        synapses = 0;
        for (const auto& p : circuit.projections()) synapses += p.synapses.size();
        rates.push_back(static_cast<double>(circuit.recording().spikes.size()) /
                        static_cast<double>(n) / (duration / 1000.0));
      }
      const double s = median(seconds);
      const double cpu = median(cpu_seconds);
      json row = {{"name", "locus/n=" + std::to_string(n) + "/threads=" + std::to_string(t)},
                  {"neurons", n},
                  {"threads", t},
                  {"synapses", synapses},
                  {"steps", steps},
                  {"median_seconds", s},
                  {"median_cpu_seconds", cpu},
                  {"neuron_steps_per_second", static_cast<double>(n * steps) / s},
                  {"neuron_steps_per_cpu_second", static_cast<double>(n * steps) / cpu},
                  {"synaptic_events", events},
                  {"synaptic_events_per_second", static_cast<double>(events) / s},
                  {"synaptic_events_per_cpu_second", static_cast<double>(events) / cpu},
                  {"mean_rate_hz", median(rates)},
                  {"seconds", seconds},
                  {"cpu_seconds", cpu_seconds}};
      std::cerr << row["name"].get<std::string>() << ": " << s << " s (cpu " << cpu << " s), "
                << row["neuron_steps_per_second"].get<double>() / 1e6 << " M neuron-steps/s, "
                << row["synaptic_events_per_second"].get<double>() / 1e6
                << " M events/s, mean rate " << median(rates) << " Hz\n";
      results.push_back(row);
    }
  }
  const json doc = {{"duration_ms", duration}, {"repeats", repeats}, {"results", results}};
  locus::bench::write_results(doc, json_path);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return locus::bench::guarded_main("locus_bench_spiking",
                                    [&] { return benchmark_main(argc, argv); });
}
