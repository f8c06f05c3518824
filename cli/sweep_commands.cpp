// `locus sweep CONFIG.yaml --jobs N --out DIR` and `locus report DIR`: the continual-learning
// harness (bench/) on the command line.

#include <fmt/core.h>

#include <filesystem>
#include <string>
#include <vector>

#include "bench/harness/cognitive.hpp"
#include "bench/harness/errors.hpp"
#include "bench/harness/merge.hpp"
#include "bench/harness/methods/method_presets.hpp"
#include "bench/harness/report.hpp"
#include "bench/harness/rl.hpp"
#include "bench/harness/sweep.hpp"
#include "cli/commands.hpp"
#include "cli/mpi_launch.hpp"
#include "cli/sweep_progress.hpp"
#include "envs/errors.hpp"
#ifdef LOCUS_HAVE_MPI
#include "bench/mpi/mpi_sweep.hpp"
#endif

namespace locus::cli {

namespace {

struct SweepArgs {
  std::string config;
  std::string out;
  int jobs = 1;
  bool quiet = false;
  std::string shard;
};

struct MergeArgs {
  std::vector<std::string> dirs;
  std::string out;
};

void print_outcome(const bench::SweepOutcome& outcome, const std::string& out) {
  fmt::print("{} runs: {} finished earlier (skipped), {} run now", outcome.total, outcome.skipped,
             outcome.executed);
  if (outcome.done_elsewhere > 0) {
    fmt::print(", {} run meanwhile by another process on {}", outcome.done_elsewhere, out);
  }
  fmt::print("\n");
  if (!outcome.complete()) {
    fmt::print(
        "{} of the sweep's {} runs have finished in {}; the summary is written when the last "
        "shard ends, or by `locus sweep merge {}` once every shard has finished\n",
        outcome.sweep_finished, outcome.sweep_total, out, out);
    return;
  }
  fmt::print("\n{}\n", outcome.table);
  fmt::print("results: {}/results.jsonl, {}/summary.csv, runs in {}/runs/\n", out, out, out);
}

void run_sweep_command(const SweepArgs& args) {
  const bench::SweepConfig config = bench::SweepConfig::from_yaml_file(args.config);
  const std::size_t total = config.expand().size();  // checks every run's settings
  const std::string out = args.out.empty() ? "runs/" + config.name : args.out;
  bench::SweepOptions options;
  options.out_dir = out;
  options.jobs = args.jobs;
  if (!args.shard.empty()) options.shard = bench::parse_shard(args.shard);
  const std::string shard_text =
      args.shard.empty() ? ""
                         : fmt::format(" (shard {}/{})", options.shard.index, options.shard.count);
  SweepProgressLine progress_line(stderr);
  if (!args.quiet) options.progress_display = &progress_line;
  const int ranks = mpi_launched_ranks();
  if (ranks == 1) {
    fmt::print("sweep '{}': {} runs{} on {} worker{} -> {}\n", config.name, total, shard_text,
               args.jobs, args.jobs == 1 ? "" : "s", out);
    std::fflush(stdout);
    print_outcome(bench::run_sweep(config, options), out);
    return;
  }
#ifdef LOCUS_HAVE_MPI
  const bench::mpi::MpiWorld world;
  if (world.rank() == 0) {
    fmt::print("sweep '{}': {} runs{} on {} MPI ranks x {} worker{} -> {}\n", config.name, total,
               shard_text, world.size(), args.jobs, args.jobs == 1 ? "" : "s", out);
    std::fflush(stdout);
  }
  const bench::SweepOutcome outcome = bench::mpi::run_sweep_mpi(config, options, world);
  if (world.rank() == 0) print_outcome(outcome, out);
#else
  throw bench::InvalidArgumentError(built_without_mpi(
      "locus sweep", ranks, "one process per shard, locus sweep CONFIG --shard i/N"));
#endif
}

void run_merge_command(const MergeArgs& args) {
  std::vector<std::filesystem::path> dirs(args.dirs.begin(), args.dirs.end());
  const std::filesystem::path out =
      args.out.empty() ? dirs.front() : std::filesystem::path(args.out);
  const bench::MergeOutcome outcome = bench::merge_sweeps(dirs, out);
  fmt::print("merged {} folder{} into {}: all {} runs present, {} copied\n", dirs.size(),
             dirs.size() == 1 ? "" : "s", out.string(), outcome.runs, outcome.copied);
  fmt::print("\n{}\n", outcome.table);
  fmt::print("results: {0}/results.jsonl, {0}/summary.csv, runs in {0}/runs/\n", out.string());
}

}  // namespace

Command add_sweep_command(CLI::App& app) {
  auto args = std::make_shared<SweepArgs>();
  auto merge_args = std::make_shared<MergeArgs>();
  CLI::App* sub = app.add_subcommand(
      "sweep", "Run a continual-learning sweep (methods x grid x seeds) from a YAML config");
  sub->add_option("config", args->config, "Sweep config (YAML), e.g. bench/configs/default.yaml")
      ->check(CLI::ExistingFile);
  sub->add_option("--out", args->out, "Output directory (default runs/<config name>)");
  sub->add_option("--jobs,-j", args->jobs, "Runs executed in parallel (worker threads per process)")
      ->check(CLI::Range(1, bench::kMaxJobs));
  sub->add_flag("--quiet,-q", args->quiet, "No progress line");
  sub->add_option("--shard", args->shard,
                  "Run only part i of N of the sweep (i/N, 0 <= i < N), e.g. one task of a Slurm "
                  "job array; `locus sweep merge` ends it");
  CLI::App* merge = sub->add_subcommand(
      "merge",
      "Check that the folders of a sweep run in shards hold every run once, gather them "
      "and write the summary");
  merge->add_option("dirs", merge_args->dirs, "The shards' output folders (or one shared folder)")
      ->required()
      ->check(CLI::ExistingDirectory);
  merge->add_option("--out", merge_args->out,
                    "Where to gather the runs (default the first folder)");
  sub->footer("Run settings (keys of defaults, methods and grid):\n" + bench::run_settings_help() +
              "\nContinual-learning methods (setting `method`; what each sets unless the run "
              "does):\n" +
              bench::method_presets_help() +
              "\nRL run settings (scenario: {kind: rl, tasks: [...]}):\n" +
              bench::rl_settings_help() +
              "\nCognitive run settings (scenario: {kind: cognitive, tasks: [...]}):\n" +
              bench::cognitive_settings_help() +
              "\nOn a cluster: mpirun -n N locus sweep CONFIG spreads the runs over MPI ranks; "
              "--shard i/N and `sweep merge` do it with job arrays (docs/scale-out.md).\n");
  return {sub, [merge, args, merge_args] {
            if (merge->parsed()) {
              run_merge_command(*merge_args);
            } else if (args->config.empty()) {
              throw bench::InvalidArgumentError(
                  "locus sweep needs a config: locus sweep CONFIG.yaml (or locus sweep merge "
                  "DIR... to end a sweep run in shards)");
            } else {
              run_sweep_command(*args);
            }
          }};
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
