// `locus spiking gain|inhibition|plasticity|gating`: the spiking microcircuit's experiments. Each
// writes CSV files into --out and then PNG plots through neuromod/spiking/plot_spiking.py when a
// Python with matplotlib is available (it says so when not).

#include <fmt/core.h>
#include <tbb/global_control.h>
#include <tbb/info.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.hpp"
#include "neuromod/spiking/csv.hpp"
#include "neuromod/spiking/errors.hpp"
#include "neuromod/spiking/experiments.hpp"
#include "neuromod/spiking/gain_change.hpp"
#include "neuromod/spiking/gating.hpp"
#include "neuromod/spiking/plasticity_control.hpp"
#include "neuromod/spiking/tools.hpp"
#include "util/process.hpp"
#include "util/python_probe.hpp"

namespace locus::cli {

namespace {

namespace spk = locus::neuromod::spiking;

// Options every spiking experiment shares.
struct CommonArgs {
  std::string out;
  std::vector<std::uint64_t> seeds = {1, 2, 3};
  double warmup = 200.0;
  double duration = 1000.0;
  std::int64_t pyramidal = 400;
  std::int64_t pv = 50;
  std::int64_t som = 50;
  std::string geometry = "ring";
  double dt = 0.1;
  int threads = 0;
  bool no_plot = false;
  std::string python;
};

// An option whose --help shows its default.
template <typename T>
CLI::Option* option(CLI::App* sub, const std::string& name, T& value, const std::string& help) {
  return sub->add_option(name, value, help)->capture_default_str();
}

void add_common_options(CLI::App* sub, CommonArgs& args, double default_duration) {
  args.duration = default_duration;
  sub->add_option("--out", args.out, "Folder for the CSV files and plots")->required();
  sub->add_option("--seeds", args.seeds, "Seeds; results are averaged over them")
      ->delimiter(',')
      ->capture_default_str();
  option(sub, "--warmup", args.warmup, "Unmeasured time before each measurement (ms)");
  option(sub, "--duration", args.duration, "Measured time per circuit (ms)");
  option(sub, "--pyramidal", args.pyramidal, "Pyramidal cells");
  option(sub, "--pv", args.pv, "PV interneurons");
  option(sub, "--som", args.som, "SOM interneurons");
  option(sub, "--geometry", args.geometry, "Layout: ring or sheet");
  option(sub, "--dt", args.dt, "Integration step (ms)");
  sub->add_option("--threads", args.threads, "Worker threads (0: all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_flag("--no-plot", args.no_plot, "Write the CSV files only");
  sub->add_option("--python", args.python,
                  "Python with matplotlib for the plots (default: $LOCUS_PYTHON, else the source "
                  "tree's .venv, else python3)");
}

std::vector<double> parse_range(const std::string& text, const std::string& flag) {
  // "a:b:step" (inclusive) or "x,y,z".
  std::vector<double> values;
  try {
    if (text.find(':') != std::string::npos) {
      const auto first = text.find(':');
      const auto second = text.find(':', first + 1);
      if (second == std::string::npos) throw std::invalid_argument("");
      const double start = std::stod(text.substr(0, first));
      const double stop = std::stod(text.substr(first + 1, second - first - 1));
      const double step = std::stod(text.substr(second + 1));
      if (!(step > 0.0) || stop < start || (stop - start) / step > 1e6) {
        throw std::invalid_argument("");
      }
      for (double x = start; x <= stop + 1e-9 * step; x += step) values.push_back(x);
    } else {
      std::size_t begin = 0;
      while (begin <= text.size()) {
        const auto end = text.find(',', begin);
        const std::string item =
            text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
        std::size_t used = 0;
        values.push_back(std::stod(item, &used));
        if (used != item.size()) throw std::invalid_argument("");
        if (end == std::string::npos) break;
        begin = end + 1;
      }
    }
  } catch (const std::exception&) {
    throw CLI::ValidationError(flag, "'" + text +
                                         "' is not a list 'x,y,z' nor a range 'start:stop:step' "
                                         "with step > 0 and stop >= start");
  }
  return values;
}

spk::CircuitConfig base_circuit(const CommonArgs& args, spk::CircuitConfig config) {
  config.sizes.pyramidal = args.pyramidal;
  config.sizes.pv = args.pv;
  config.sizes.som = args.som;
  config.geometry = spk::geometry_from_string(args.geometry);
  config.dt = args.dt;
  return config;
}

// Plots through plot_spiking.py, or says why not and how to plot later.
void make_plots(const std::string& kind, const CommonArgs& args) {
  if (args.no_plot) return;
  const std::string python = args.python.empty() ? spk::default_python() : args.python;
  const std::string script = spk::plot_script_path();
  const std::string later = fmt::format("{} {} {} {}", python, script, kind, args.out);
  if (!std::filesystem::exists(script)) {
    fmt::print("plots skipped: the plotting script {} is missing (the CSV files are written)\n",
               script);
    return;
  }
  if (const auto problem = util::python_problem(python, {"matplotlib"})) {
    fmt::print(
        "plots skipped: {} (install it with `.venv/bin/pip install matplotlib`, or pass --python "
        "or set LOCUS_PYTHON). The CSV files are written; to plot later run:\n  {}\n",
        *problem, later);
    return;
  }
  std::fflush(stdout);  // the table before the script's own lines, when stdout is a pipe
  if (util::run_program({python, script, kind, args.out}) != 0) {
    throw std::runtime_error("the plotting script failed: " + later);
  }
}

std::unique_ptr<tbb::global_control> thread_limit(int threads) {
  if (threads <= 0) return nullptr;
  return std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                               static_cast<std::size_t>(threads));
}

// The width of a column of labels.
template <typename Rows, typename Label>
std::size_t label_width(const Rows& rows, Label label, std::string_view heading) {
  std::size_t width = heading.size();
  for (const auto& row : rows) width = std::max(width, label(row).size());
  return width;
}

void print_curves(const std::vector<spk::GainCurve>& curves) {
  const std::size_t w = label_width(
      curves, [](const spk::GainCurve& c) -> const std::string& { return c.condition.label; },
      "condition");
  fmt::print("{:<{}} {:>14} {:>14} {:>12}\n", "condition", w, "gain (Hz/kHz)", "threshold (Hz)",
             "max bursts");
  for (const auto& curve : curves) {
    double max_burst = 0.0;
    for (const auto& p : curve.points) max_burst = std::max(max_burst, p.burst_fraction);
    fmt::print("{:<{}} {:>14.2f} {:>14.0f} {:>12.2f}\n", curve.condition.label, w, curve.gain,
               curve.threshold, max_burst);
  }
}

// Each curve against its reference curve (reference_of gives its index, or nullopt for none):
// shift or scale over the inputs where both are above threshold (neuromod/spiking/gain_change.hpp).
std::vector<spk::GainComparison> compare_curves(
    const std::vector<spk::GainCurve>& curves, double threshold_rate,
    const std::function<std::optional<std::size_t>(std::size_t)>& reference_of) {
  std::vector<spk::GainComparison> rows;
  for (std::size_t c = 0; c < curves.size(); ++c) {
    const auto reference = reference_of(c);
    if (!reference || *reference == c) continue;
    rows.push_back({.condition = curves[c].condition.label,
                    .reference = curves[*reference].condition.label,
                    .change = spk::compare_gain(curves[c], curves[*reference], threshold_rate, 0.0,
                                                std::numeric_limits<double>::infinity())});
  }
  return rows;
}

void print_changes(const std::vector<spk::GainComparison>& rows) {
  const std::size_t w = label_width(
      rows, [](const spk::GainComparison& r) -> const std::string& { return r.condition; },
      "condition");
  const std::size_t wr = label_width(
      rows, [](const spk::GainComparison& r) -> const std::string& { return r.reference; },
      "reference");
  fmt::print(
      "\nchange against the reference curve (c = r + s or c = m r, fitted where both are above "
      "threshold):\n{:<{}} {:<{}} {:>13} {:>15} {:>15} {}\n",
      "condition", w, "reference", wr, "inputs (Hz)", "shift s (rms)", "scale m (rms)", "kind");
  for (const auto& row : rows) {
    const spk::GainChange& c = row.change;
    fmt::print("{:<{}} {:<{}} {:>6.0f}-{:<6.0f} {:>+7.1f} ({:>4.1f}) {:>8.2f} ({:>4.1f}) {}\n",
               row.condition, w, row.reference, wr, c.fit_from, c.fit_to, c.shift_only,
               c.shift_only_rms, c.scale_only, c.scale_only_rms, c.kind);
  }
}

// The measurement's timing and seeds, as every experiment takes them from the common flags.
template <typename Options>
void set_measurement(Options& options, const CommonArgs& common) {
  options.warmup = common.warmup;
  options.duration = common.duration;
  options.seeds = common.seeds;
}

// The gain and inhibition experiments' options: the common flags and --somatic-rates.
spk::GainOptions gain_options(const CommonArgs& common, const std::string& somatic_rates) {
  spk::GainOptions options;
  options.base = base_circuit(common, spk::GainOptions::default_experiment_circuit());
  options.somatic_rates = parse_range(somatic_rates, "--somatic-rates");
  set_measurement(options, common);
  return options;
}

// The closing line of a run: its time since `start` and the files it wrote into `out`.
void print_done(std::chrono::steady_clock::time_point start, std::string_view files,
                const std::filesystem::path& out) {
  fmt::print("{:.1f} s; wrote {} in {}\n",
             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), files,
             out.string());
}

// --- gain ---------------------------------------------------------------------------------------

struct GainArgs {
  CommonArgs common;
  std::string somatic_rates = "0:6000:500";
  std::string dendritic_rates = "0,500,1000,2000";
  std::string couplings = "0.5,1";
  double trace_rate = 2000.0;
};

void run_gain(const GainArgs& args) {
  const auto limit = thread_limit(args.common.threads);
  const spk::GainOptions options = gain_options(args.common, args.somatic_rates);
  std::vector<spk::GainCondition> conditions;
  const std::vector<double> dendritic_rates =
      parse_range(args.dendritic_rates, "--dendritic-rates");
  for (const double coupling : parse_range(args.couplings, "--couplings")) {
    for (const double dendritic : dendritic_rates) {
      conditions.push_back(
          {.label = fmt::format("dend {:g} Hz, coupling {:g}", dendritic, coupling),
           .dendritic_rate = dendritic,
           .coupling = coupling});
    }
  }
  const std::size_t with_all_paths = conditions.size();
  // The controls of the strongest drive: the same drive with one path of the coupling cut.
  const spk::GainCondition strongest = conditions.back();
  if (strongest.dendritic_rate > 0.0 && strongest.coupling > 0.0) {
    const std::string drive =
        fmt::format("dend {:g} Hz, coupling {:g}", strongest.dendritic_rate, strongest.coupling);
    spk::GainCondition cut = strongest;
    cut.label = drive + ", no BAP";
    cut.bap = 0.0;
    conditions.push_back(cut);
    cut = strongest;
    cut.label = drive + ", no dend-to-soma current";
    cut.dendrite_to_soma = 0.0;
    conditions.push_back(cut);
    cut = strongest;
    cut.label = drive + ", no reset switch";
    cut.reset_switch = false;
    conditions.push_back(cut);
  }
  fmt::print("spiking gain: {} conditions x {} inputs x {} seeds, {} neurons each\n",
             conditions.size(), options.somatic_rates.size(), options.seeds.size(),
             args.common.pyramidal + args.common.pv + args.common.som);
  const auto start = std::chrono::steady_clock::now();
  const auto curves = spk::run_gain_experiment(conditions, options);
  std::vector<spk::GainCondition> trace_conditions;
  for (std::size_t c = 0; c < with_all_paths; ++c) {
    if (conditions[c].coupling == strongest.coupling) trace_conditions.push_back(conditions[c]);
  }
  // Each curve against the undriven curve of its coupling.
  const auto changes = compare_curves(curves, options.threshold_rate,
                                      [&](std::size_t c) -> std::optional<std::size_t> {
                                        for (std::size_t r = 0; r < with_all_paths; ++r) {
                                          if (conditions[r].dendritic_rate == 0.0 &&
                                              conditions[r].coupling == conditions[c].coupling) {
                                            return r;
                                          }
                                        }
                                        return std::nullopt;
                                      });
  const auto traces = spk::run_example_traces(trace_conditions, options, args.trace_rate, 300.0);
  const std::filesystem::path out(args.common.out);
  spk::write_text_atomically(out / "gain_curves.csv", spk::gain_curves_csv(curves));
  spk::write_text_atomically(out / "gain_summary.csv", spk::gain_summary_csv(curves));
  std::string trace_text;
  for (std::size_t i = 0; i < traces.size(); ++i) {
    trace_text += spk::voltage_trace_csv(traces[i].label, traces[i].voltages, i == 0);
  }
  spk::write_text_atomically(out / "gain_traces.csv", trace_text);
  spk::write_text_atomically(out / "gain_change.csv", spk::gain_change_csv(changes));
  print_curves(curves);
  print_changes(changes);
  print_done(start, "gain_curves.csv, gain_summary.csv, gain_change.csv, gain_traces.csv", out);
  make_plots("gain", args.common);
}

// --- inhibition ---------------------------------------------------------------------------------

struct InhibitionArgs {
  CommonArgs common;
  std::string somatic_rates = "0:6000:500";
  double dendritic_rate = 1000.0;
  double coupling = 1.0;
  double raised = 3.0;
};

void run_inhibition(const InhibitionArgs& args) {
  const auto limit = thread_limit(args.common.threads);
  const spk::GainOptions options = gain_options(args.common, args.somatic_rates);
  const double d = args.dendritic_rate;
  const double k = args.coupling;
  const double r = args.raised;
  const std::vector<spk::GainCondition> conditions = {
      {.label = "control", .dendritic_rate = d, .coupling = k},
      {.label = fmt::format("SOM x{:g}", r), .dendritic_rate = d, .coupling = k, .som_strength = r},
      {.label = fmt::format("PV x{:g}", r), .dendritic_rate = d, .coupling = k, .pv_strength = r},
  };
  fmt::print(
      "spiking inhibition: dendritic drive {:g} Hz, coupling {:g}, SOM or PV x{:g}; {} "
      "inputs x {} seeds\n",
      d, k, r, options.somatic_rates.size(), options.seeds.size());
  const auto start = std::chrono::steady_clock::now();
  const auto curves = spk::run_gain_experiment(conditions, options);
  const std::filesystem::path out(args.common.out);
  spk::write_text_atomically(out / "inhibition_curves.csv", spk::gain_curves_csv(curves));
  spk::write_text_atomically(out / "inhibition_summary.csv", spk::gain_summary_csv(curves));
  const auto changes = compare_curves(curves, options.threshold_rate,
                                      [](std::size_t) { return std::optional<std::size_t>(0); });
  spk::write_text_atomically(out / "inhibition_change.csv", spk::gain_change_csv(changes));
  print_curves(curves);
  print_changes(changes);
  print_done(start, "inhibition_curves.csv, inhibition_summary.csv, inhibition_change.csv", out);
  make_plots("inhibition", args.common);
}

// --- plasticity ---------------------------------------------------------------------------------

struct PlasticityArgs {
  CommonArgs common;
  std::string dendritic_rates = "0,1000";
  std::string plasticity = "1";
  std::int64_t inputs = 200;
  double input_rate = 10.0;
  double somatic_rate = 1500.0;
  double initial_weight = 2.0;
  bool no_rate_match = false;
  std::string rule = "pair";
  double learning_rate = 1.0;
};

// Beside each bursting condition (dendritic drive > 0), its rate-matched control: the same
// condition without dendritic drive, at the somatic input that gives the same post rate
// (neuromod/spiking/plasticity_control.hpp).
void add_rate_matched_controls(std::vector<spk::PlasticityCondition>& conditions,
                               const spk::PlasticityOptions& options) {
  const std::vector<spk::PlasticityCondition> given = conditions;
  for (const auto& bursting : given) {
    if (bursting.dendritic_rate > 0.0) {
      conditions.push_back(spk::rate_matched_control(bursting, options));
    }
  }
}

void run_plasticity(const PlasticityArgs& args) {
  const auto limit = thread_limit(args.common.threads);
  spk::PlasticityOptions options;
  spk::CircuitConfig base = spk::PlasticityOptions::default_plasticity_circuit();
  base.sizes.input = args.inputs;
  base.input_rate = args.input_rate;
  base.stdp.rule = spk::stdp_rule_from_string(args.rule);
  base.stdp.learning_rate = args.learning_rate;
  // The plasticity circuit has no interneurons unless asked for; pass --pv/--som to add them
  // (without wiring they only fire on their own drive).
  options.base = base_circuit(args.common, base);
  options.somatic_rate = args.somatic_rate;
  options.initial_weight = args.initial_weight;
  set_measurement(options, args.common);
  std::vector<spk::PlasticityCondition> conditions;
  for (const double eta : parse_range(args.plasticity, "--plasticity")) {
    for (const double dendritic : parse_range(args.dendritic_rates, "--dendritic-rates")) {
      conditions.push_back({.label = fmt::format("dend {:g} Hz, plasticity {:g}", dendritic, eta),
                            .dendritic_rate = dendritic,
                            .plasticity = eta});
    }
  }
  fmt::print(
      "spiking plasticity: {} conditions x {} seeds, {} inputs at {:g} Hz onto {} "
      "pyramidal cells, {:g} ms of {} STDP (rate x{:g})\n",
      conditions.size(), options.seeds.size(), args.inputs, args.input_rate, args.common.pyramidal,
      options.duration, args.rule, args.learning_rate);
  const auto start = std::chrono::steady_clock::now();
  if (!args.no_rate_match) add_rate_matched_controls(conditions, options);
  const auto results = spk::run_plasticity_experiment(conditions, options);
  const std::filesystem::path out(args.common.out);
  spk::write_text_atomically(out / "plasticity_summary.csv",
                             spk::plasticity_summary_csv(results, options.somatic_rate));
  spk::write_text_atomically(out / "plasticity_weights.csv", spk::plasticity_weights_csv(results));
  fmt::print("{:<44} {:>9} {:>9} {:>7} {:>13} {:>14} {:>12} {:>12}\n", "condition", "soma (Hz)",
             "rate (Hz)", "bursts", "dw/dt (nS/s)", "|dw|/dt (nS/s)", "dw/spike", "dw/burst");
  for (const auto& r : results) {
    fmt::print("{:<44} {:>9.0f} {:>9.2f} {:>7.2f} {:>13.5f} {:>14.5f} {:>12.6f} {:>12.6f}\n",
               r.condition.label, r.condition.somatic_rate.value_or(options.somatic_rate),
               r.post_rate, r.burst_fraction, r.weight_change_per_s, r.abs_weight_change_per_s,
               r.change_per_post_spike, r.change_per_burst);
  }
  print_done(start, "plasticity_summary.csv, plasticity_weights.csv", out);
  make_plots("plasticity", args.common);
}

// --- gating -------------------------------------------------------------------------------------

struct GatingArgs {
  CommonArgs common;
  std::string pv_strengths = "0,1,3";
  double somatic_rate = 2000.0;
  double dendritic_rate = 1000.0;
  double stimulus_rate = 2000.0;
  double stimulus_weight = 1.0;
  double stimulus_sigma = 0.03;
};

void run_gating(const GatingArgs& args) {
  const auto limit = thread_limit(args.common.threads);
  spk::GatingOptions options;
  options.base = base_circuit(args.common, spk::GainOptions::default_experiment_circuit());
  options.pv_strengths = parse_range(args.pv_strengths, "--pv-strengths");
  options.somatic_rate = args.somatic_rate;
  options.dendritic_rate = args.dendritic_rate;
  options.stimulus_rate = args.stimulus_rate;
  options.stimulus_weight = args.stimulus_weight;
  options.stimulus_sigma = args.stimulus_sigma;
  set_measurement(options, args.common);
  fmt::print(
      "spiking gating: a stimulus of {:g} Hz on a patch of sigma {:g}, on and off, for PV x{}; "
      "{} seeds\n",
      options.stimulus_rate, options.stimulus_sigma, args.pv_strengths, options.seeds.size());
  const auto start = std::chrono::steady_clock::now();
  const auto profiles = spk::run_gating_experiment(options);
  const std::filesystem::path out(args.common.out);
  spk::write_text_atomically(out / "gating_profile.csv", spk::gating_profile_csv(profiles));
  spk::write_text_atomically(out / "gating_summary.csv", spk::gating_summary_csv(profiles));
  fmt::print("{:>6} {:>22} {:>24} {:>22}\n", "PV", "centre evoked (Hz)", "surround evoked (Hz)",
             "surround without (Hz)");
  for (const auto& p : profiles) {
    fmt::print("x{:<5g} {:>22.2f} {:>24.2f} {:>22.2f}\n", p.pv_strength, p.centre_evoked,
               p.surround_evoked, p.surround_rate_off);
  }
  fmt::print("(centre: cells within 2 sigma of the stimulus; surround: from 3 sigma to 0.25)\n");
  print_done(start, "gating_profile.csv, gating_summary.csv", out);
  make_plots("gating", args.common);
}

}  // namespace

Command add_spiking_command(CLI::App& app) {
  auto* spiking = app.add_subcommand(
      "spiking", "Spiking L5 microcircuit experiments (gain, inhibition, plasticity, gating)");
  spiking->require_subcommand(1);

  auto gain_args = std::make_shared<GainArgs>();
  auto* gain = spiking->add_subcommand(
      "gain", "Rate vs somatic input for several dendritic drives and couplings; gain = slope");
  add_common_options(gain, gain_args->common, 1000.0);
  option(gain, "--somatic-rates", gain_args->somatic_rates,
         "Somatic Poisson input rates (Hz): 'start:stop:step' or 'x,y,z'");
  option(gain, "--dendritic-rates", gain_args->dendritic_rates,
         "Dendritic Poisson drives (Hz), one curve each");
  option(gain, "--couplings", gain_args->couplings, "Soma-dendrite couplings, one set each");
  option(gain, "--trace-rate", gain_args->trace_rate,
         "Somatic input (Hz) of the example voltage traces");

  auto inhibition_args = std::make_shared<InhibitionArgs>();
  auto* inhibition = spiking->add_subcommand(
      "inhibition", "Rate vs somatic input with SOM (dendritic) or PV (somatic) inhibition raised");
  add_common_options(inhibition, inhibition_args->common, 1000.0);
  option(inhibition, "--somatic-rates", inhibition_args->somatic_rates,
         "Somatic Poisson input rates (Hz): 'start:stop:step' or 'x,y,z'");
  option(inhibition, "--dendritic-rate", inhibition_args->dendritic_rate,
         "Dendritic Poisson drive (Hz)");
  option(inhibition, "--coupling", inhibition_args->coupling, "Soma-dendrite coupling");
  option(inhibition, "--raised", inhibition_args->raised,
         "Factor on SOM or PV synapses in the raised conditions");

  auto plasticity_args = std::make_shared<PlasticityArgs>();
  auto* plasticity = spiking->add_subcommand(
      "plasticity", "STDP weight change per second with and without dendritic drive (bursting)");
  plasticity_args->common.pyramidal = 100;
  plasticity_args->common.pv = 0;
  plasticity_args->common.som = 0;
  add_common_options(plasticity, plasticity_args->common, 2000.0);
  option(plasticity, "--dendritic-rates", plasticity_args->dendritic_rates,
         "Dendritic Poisson drives (Hz), one condition each");
  option(plasticity, "--plasticity", plasticity_args->plasticity,
         "Neuromodulatory STDP-rate factors, one set each");
  option(plasticity, "--inputs", plasticity_args->inputs, "Plastic Poisson input sources");
  option(plasticity, "--input-rate", plasticity_args->input_rate, "Rate of each input (Hz)");
  option(plasticity, "--somatic-rate", plasticity_args->somatic_rate,
         "Somatic background Poisson input (Hz)");
  option(plasticity, "--initial-weight", plasticity_args->initial_weight,
         "Initial weight of every plastic synapse (nS)");
  plasticity->add_flag("--no-rate-match", plasticity_args->no_rate_match,
                       "Skip the tonic control at each bursting condition's post rate");
  option(plasticity, "--rule", plasticity_args->rule,
         "STDP rule: pair, or triplet (Pfister & Gerstner 2006: bursts can count beyond their "
         "spikes)")
      ->check(CLI::IsMember({"pair", "triplet"}));
  option(plasticity, "--learning-rate", plasticity_args->learning_rate,
         "Factor on every STDP amplitude (the triplet rule's saturate the weights within 2 s at "
         "1; 0.05 keeps them free)")
      ->check(CLI::NonNegativeNumber);

  auto gating_args = std::make_shared<GatingArgs>();
  auto* gating = spiking->add_subcommand(
      "gating", "Neighbours' response to a localized stimulus by distance, per PV strength");
  add_common_options(gating, gating_args->common, 1000.0);
  option(gating, "--pv-strengths", gating_args->pv_strengths,
         "Factors on PV synapses, one profile each (0: the control without PV inhibition)");
  option(gating, "--somatic-rate", gating_args->somatic_rate,
         "Somatic background Poisson input (Hz)");
  option(gating, "--dendritic-rate", gating_args->dendritic_rate, "Dendritic Poisson drive (Hz)");
  option(gating, "--stimulus-rate", gating_args->stimulus_rate, "The stimulus source's rate (Hz)");
  option(gating, "--stimulus-weight", gating_args->stimulus_weight,
         "nS per stimulus spike at each target");
  option(gating, "--stimulus-sigma", gating_args->stimulus_sigma,
         "Width of the stimulated patch (ring circumferences)");

  return {spiking, [gain, inhibition, plasticity, gating, gain_args, inhibition_args,
                    plasticity_args, gating_args] {
            if (gating->parsed()) {
              run_gating(*gating_args);
            } else if (gain->parsed()) {
              run_gain(*gain_args);
            } else if (inhibition->parsed()) {
              run_inhibition(*inhibition_args);
            } else if (plasticity->parsed()) {
              run_plasticity(*plasticity_args);
            }
          }};
}

}  // namespace locus::cli
