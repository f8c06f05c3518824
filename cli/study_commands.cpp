// `locus study set-shift`: the set-shifting study of bench/studies/set_shift/set_shift.hpp
// (dopamine only against dopamine + noradrenaline on SetShiftGoNoGo-v0): runs the agents in
// parallel workers, writes the CSV files and summary.json into --out, plots them through
// bench/studies/set_shift/plot_set_shift.py (matplotlib) and prints the table with the Mann-Whitney
// U tests.

#include <fmt/core.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "agents/errors.hpp"
#include "agents/run.hpp"
#include "bench/harness/errors.hpp"
#include "bench/harness/report.hpp"
#include "bench/studies/set_shift/set_shift.hpp"
#include "cli/commands.hpp"
#include "util/process.hpp"
#include "util/python_probe.hpp"

namespace locus::cli {
namespace {

struct SetShiftOptions {
  std::string out, config_file, agent = "a2c", policy = "mlp", shift = "reversal", python;
  std::vector<std::string> modulations = {"da", "da+na"};
  std::vector<std::size_t> hidden;
  std::vector<std::uint64_t> seeds;
  std::size_t runs = 10, switch_after = 800, flips = 3, jobs = 0, window = 20;
  double accuracy = 0.9;
  bool no_plot = false;
};

// Seeds per modulation: far more than a study needs, and few enough that a mistyped --runs (1e8)
// is refused instead of filling the memory with seeds and results.
constexpr std::size_t kMaxRuns = 10000;

// The agent the study uses unless --config says otherwise: the A2C settings that learn
// GoNoGo-v0 (agents/configs/gonogo.yaml), one trial per episode, the trial's 15 observations
// stacked as the feed-forward network's memory (a recurrent policy's state is its memory, so it
// gets one frame: see apply_policy_options).
agents::AgentConfig default_agent() {
  agents::AgentConfig agent;
  agent.agent = agents::Algorithm::kA2c;
  agent.network = agents::NetworkMode::kTrainable;
  agent.num_envs = 16;
  agent.rollout_steps = 15;
  agent.frame_stack = 15;
  agent.learning_rate = 0.002f;
  agent.gae_lambda = 0.9f;
  agent.trace_envs = 0;
  return agent;
}

// --policy and --hidden over the defaults and the config file (flags win, as in `locus train`).
// A recurrent policy sees one observation per step unless the config file stacks frames: the
// default stack of 15 is the feed-forward network's stand-in for the memory it now has.
void apply_policy_options(agents::AgentConfig& agent, const SetShiftOptions& options,
                          const CLI::App& sub, const nlohmann::json& config_file) {
  if (sub.count("--policy") > 0) agent.policy = agents::policy_type_from_string(options.policy);
  if (sub.count("--hidden") > 0) agent.hidden = options.hidden;
  if (agent.policy != agents::PolicyType::kMlp && !config_file.contains("frame_stack")) {
    agent.frame_stack = 1;
  }
}

void plot(const SetShiftOptions& options) {
  if (options.no_plot) return;
  const std::string python = options.python.empty() ? bench::report_python() : options.python;
  const std::filesystem::path script = bench::set_shift_plot_script();
  const std::vector<std::string> argv = {python, script.string(), options.out};
  const std::string command = util::command_text(argv);
  if (!std::filesystem::exists(script)) {
    fmt::print("plot skipped: {} is missing (the CSV files are written)\n", script.string());
    return;
  }
  if (const auto problem = util::python_problem(python, {"matplotlib"})) {
    fmt::print(
        "plot skipped: {}. The CSV files are written; set LOCUS_PYTHON (or --python) to a Python "
        "3 with matplotlib (bash scripts/setup.sh makes the repository's .venv with it) and plot "
        "with:\n  {}\n",
        *problem, command);
    return;
  }
  if (const int status = util::run_program(argv); status != 0) {
    fmt::print(
        "plot failed (exit status {}); the CSV files are written. Plot later with (needs "
        "matplotlib):\n  {}\n",
        status, command);
  }
}

std::string mean_sd(const nlohmann::json& stat, int decimals) {
  if (stat["mean"].is_null()) return "-";
  const double mean = stat["mean"].get<double>();
  if (stat["sd"].is_null()) return fmt::format("{:.{}f}", mean, decimals);
  return fmt::format("{:.{}f} ± {:.{}f}", mean, decimals, stat["sd"].get<double>(), decimals);
}

void print_table(const nlohmann::json& summary) {
  const auto& config = summary["config"];
  fmt::print(
      "\nSetShiftGoNoGo-v0, {} shift every {} trials, {} flips; criterion {} of the last {} "
      "trials correct; H(A|C) over the {} trials before / after each flip (mean ± sd over "
      "seeds)\n",
      config["shift"].get<std::string>(), config["switch_after_trials"].get<std::size_t>(),
      config["flips"].get<std::size_t>(),
      static_cast<int>(std::ceil(config["criterion"]["accuracy"].get<double>() *
                                     config["criterion"]["window"].get<double>() -
                                 1e-9)),
      config["criterion"]["window"].get<std::size_t>(),
      config["summary_window"].get<std::size_t>());
  fmt::print(
      "| modulation | runs | trials to criterion after a flip | censored | acquisition (block 0) "
      "| H(A|C) before, bits | H(A|C) after, bits |\n|---|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& group : summary["groups"]) {
    fmt::print("| {} | {} | {} | {} | {} | {} | {} |\n", group["modulation"].get<std::string>(),
               group["runs"].get<std::size_t>(), mean_sd(group["trials_to_criterion"], 1),
               mean_sd(group["censored_share"], 2),
               mean_sd(group["acquisition_trials_to_criterion"], 1),
               mean_sd(group["entropy_before_bits"], 3), mean_sd(group["entropy_after_bits"], 3));
  }
  for (const auto& test : summary["tests"]) {
    for (const char* key : {"trials_to_criterion", "entropy_after_bits"}) {
      const auto& t = test[key];
      fmt::print("{} vs {}, {}: Mann-Whitney U = {:.1f}, two-sided p = {:.4g} ({})\n",
                 test["a"].get<std::string>(), test["b"].get<std::string>(), key,
                 t["u"].get<double>(), t["p_value"].get<double>(),
                 t["exact"].get<bool>() ? "exact" : "normal approximation");
    }
  }
}

}  // namespace

Command add_study_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("study", "Experiments built on the agents");
  cmd->require_subcommand(1);
  auto* sub = cmd->add_subcommand(
      "set-shift",
      "SetShiftGoNoGo-v0: trials to criterion after each rule flip and H(A|C), dopamine only "
      "vs dopamine + noradrenaline");
  auto options = std::make_shared<SetShiftOptions>();
  sub->add_option("--out", options->out, "Folder for the CSV files, summary.json and the plot")
      ->required();
  sub->add_option("--config", options->config_file,
                  "JSON or YAML file of agent keys (as `locus train --config`; env, modulation "
                  "and seed are the study's)")
      ->check(CLI::ExistingFile);
  sub->add_option("--agent", options->agent, "a2c, ppo or reinforce (default a2c)");
  sub->add_option("--policy", options->policy,
                  "mlp (default: feed-forward, the trial's 15 observations stacked), or rnn, gru "
                  "or lstm: a recurrent first layer whose state is the memory (one observation "
                  "per step unless the --config file sets frame_stack)");
  sub->add_option("--hidden", options->hidden,
                  "Layer widths, e.g. 64 or 64,64 (default 64,64; recurrent policies: the first "
                  "is the recurrent layer)")
      ->delimiter(',');
  sub->add_option("--modulations", options->modulations, "Modulations compared (default da,da+na)")
      ->delimiter(',');
  auto* seeds =
      sub->add_option("--seeds", options->seeds, "Seeds (default 1..--runs)")->delimiter(',');
  auto* runs = sub->add_option("--runs", options->runs, "Seeds 1..N per modulation (default 10)");
  seeds->excludes(runs);
  sub->add_option("--switch-after", options->switch_after,
                  "Trials per env between rule flips (default 800)");
  sub->add_option("--flips", options->flips, "Rule flips (default 3)");
  sub->add_option("--shift", options->shift, "reversal or extradimensional (default reversal)");
  sub->add_option("--criterion-window", options->window, "Criterion window in trials (20)");
  sub->add_option("--criterion-accuracy", options->accuracy, "Share correct in it (0.9)");
  sub->add_option("--jobs", options->jobs, "Parallel runs (0: every core)");
  sub->add_flag("--no-plot", options->no_plot, "Write the CSV files only");
  sub->add_option("--python", options->python,
                  "Python with matplotlib for the plot (default: $LOCUS_PYTHON, else the .venv)");

  auto run = [=]() {
    bench::SetShiftStudyConfig config;
    config.agent = default_agent();
    nlohmann::json json = nlohmann::json::object();
    if (!options->config_file.empty()) {
      json = agents::read_config_file(options->config_file);
      if (!json.is_object()) {
        throw agents::ConfigError(
            fmt::format("config file {} must hold a mapping of keys", options->config_file));
      }
      for (const char* key : {"env", "modulation", "seed"}) {
        if (json.contains(key)) {
          throw agents::ConfigError(fmt::format(
              "config file {}: '{}' is set by the study, remove it", options->config_file, key));
        }
      }
      agents::apply_json(config.agent, json);
    }
    apply_policy_options(config.agent, *options, *sub, json);
    if (sub->count("--agent") > 0 || options->config_file.empty()) {
      config.agent.agent = agents::algorithm_from_string(options->agent);
    }
    config.env_kwargs = config.agent.env_kwargs;
    if (!config.env_kwargs.contains("trials_per_episode")) {
      config.env_kwargs["trials_per_episode"] = 1;
    }
    config.modulations.clear();
    for (const auto& name : options->modulations) {
      config.modulations.push_back(agents::modulation_from_string(name));
    }
    config.seeds = options->seeds;
    if (config.seeds.empty()) {
      if (options->runs == 0 || options->runs > kMaxRuns) {
        throw bench::InvalidArgumentError(
            fmt::format("--runs must be in [1, {}], got {}", kMaxRuns, options->runs));
      }
      for (std::size_t s = 1; s <= options->runs; ++s) config.seeds.push_back(s);
    }
    config.shift = options->shift;
    config.switch_after_trials = options->switch_after;
    config.flips = options->flips;
    config.criterion = {options->window, options->accuracy};
    config.threads = options->jobs;
    config.validate();
    if (std::filesystem::exists(std::filesystem::path(options->out) / "summary.json")) {
      throw bench::InvalidArgumentError(fmt::format(
          "{} already holds a study (summary.json); choose another --out", options->out));
    }

    const std::size_t total = config.modulations.size() * config.seeds.size();
    std::size_t finished = 0;
    const auto study = bench::run_set_shift_study(config, [&](const bench::SetShiftRun& run) {
      finished += 1;
      fmt::print(stderr,
                 "[{}/{}] {} seed {}: trials to criterion {:.1f} (censored {}/{}), H(A|C) "
                 "after flips {:.3f} bits, {} steps\n",
                 finished, total, agents::to_string(run.modulation), run.seed,
                 run.mean_trials_to_criterion, run.censored, run.flips_measured, run.entropy_after,
                 run.steps);
    });
    const auto summary = bench::write_set_shift_study(study, options->out);
    print_table(summary);
    fmt::print("files: {0}/runs.csv, {0}/blocks.csv, {0}/entropy.csv, {0}/summary.json\n",
               options->out);
    plot(*options);
  };
  return {sub, run};
}

}  // namespace locus::cli
