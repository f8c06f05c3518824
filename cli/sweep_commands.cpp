// `locus sweep CONFIG.yaml --jobs N --out DIR` and `locus report DIR`: the continual-learning
// harness (bench/) on the command line.

#include <fmt/core.h>

#include <filesystem>
#include <string>

#include "bench/harness/cognitive.hpp"
#include "bench/harness/errors.hpp"
#include "bench/harness/report.hpp"
#include "bench/harness/rl.hpp"
#include "bench/harness/sweep.hpp"
#include "cli/commands.hpp"
#include "cli/sweep_progress.hpp"
#include "envs/errors.hpp"

namespace locus::cli {

namespace {

struct SweepArgs {
  std::string config;
  std::string out;
  int jobs = 1;
  bool quiet = false;
};

void run_sweep_command(const SweepArgs& args) {
  bench::SweepConfig config;
  std::size_t total = 0;
  config = bench::SweepConfig::from_yaml_file(args.config);
  total = config.expand().size();  // checks every run's settings
  const std::string out = args.out.empty() ? "runs/" + config.name : args.out;
  bench::SweepOptions options;
  options.out_dir = out;
  options.jobs = args.jobs;
  SweepProgressLine progress_line(stderr);
  if (!args.quiet) options.progress_display = &progress_line;
  fmt::print("sweep '{}': {} runs on {} worker{} -> {}\n", config.name, total, args.jobs,
             args.jobs == 1 ? "" : "s", out);
  std::fflush(stdout);
  const bench::SweepOutcome outcome = bench::run_sweep(config, options);
  fmt::print("{} runs: {} finished earlier (skipped), {} run now\n", outcome.total, outcome.skipped,
             outcome.executed);
  fmt::print("\n{}\n", outcome.table);
  fmt::print("results: {}/results.jsonl, {}/summary.csv, runs in {}/runs/\n", out, out, out);
}

}  // namespace

Command add_sweep_command(CLI::App& app) {
  auto args = std::make_shared<SweepArgs>();
  CLI::App* sub = app.add_subcommand(
      "sweep", "Run a continual-learning sweep (methods x grid x seeds) from a YAML config");
  sub->add_option("config", args->config, "Sweep config (YAML), e.g. bench/configs/default.yaml")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--out", args->out, "Output directory (default runs/<config name>)");
  sub->add_option("--jobs,-j", args->jobs, "Runs executed in parallel (TBB workers)")
      ->check(CLI::PositiveNumber);
  sub->add_flag("--quiet,-q", args->quiet, "No progress line");
  sub->footer("Run settings (keys of defaults, methods and grid):\n" + bench::run_settings_help() +
              "\nRL run settings (scenario: {kind: rl, tasks: [...]}):\n" +
              bench::rl_settings_help() +
              "\nCognitive run settings (scenario: {kind: cognitive, tasks: [...]}):\n" +
              bench::cognitive_settings_help());
  return {sub, [args] { run_sweep_command(*args); }};
}

Command add_report_command(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand(
      "report", "Write DIR/report.html with plots (matplotlib) from a finished sweep");
  sub->add_option("dir", *dir, "Sweep output directory")->required()->check(CLI::ExistingDirectory);
  return {sub, [dir] {
            const auto path = bench::make_report(*dir);
            fmt::print("report: {}\n", std::filesystem::absolute(path).string());
          }};
}

}  // namespace locus::cli
