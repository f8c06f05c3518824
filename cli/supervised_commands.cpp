// `locus supervised`: a recurrent network trained by supervision on a cognitive task, as NeuroGym
// trains one (supervised/trial_run.hpp), with the held-out accuracy printed and the run written
// to --out.

#include <fmt/core.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "cli/commands.hpp"
#include "envs/errors.hpp"
#include "neuromod/errors.hpp"
#include "neuromod/spec.hpp"
#include "supervised/trial_run.hpp"

namespace locus::cli {

namespace {

struct SupervisedArgs {
  std::string env, kwargs, network = "gru", spec_file, out;
  bool modulated = false, reset_at_trial_start = false, quiet = false;
  std::size_t hidden = 128, batch_size = 16, seq_len = 100, eval_trials = 500;
  std::int64_t iterations = 2000, eval_every = 0;
  std::uint64_t seed = 0;
  float alpha = 1.0f;
  std::optional<float> learning_rate;
  float clip = 1.0f;
};

neuromod::NetworkSpec read_spec_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) throw envs::InvalidArgumentError(fmt::format("--spec: cannot read {}", path));
  return neuromod::network_spec_from_json(text.str());
}

supervised::TrialTrainerConfig trainer_config(const SupervisedArgs& args) {
  supervised::TrialTrainerConfig config;
  config.data = {.env_id = args.env,
                 .env_kwargs = parse_kwargs(args.kwargs, "--kwargs"),
                 .batch_size = args.batch_size,
                 .seq_len = args.seq_len,
                 .seed = args.seed};
  config.network.recurrence = supervised::recurrence_from_name(args.network);
  config.network.hidden = args.hidden;
  config.network.modulated = args.modulated;
  config.network.alpha = args.alpha;
  if (!args.spec_file.empty()) config.network.spec = read_spec_file(args.spec_file);
  config.optimizer = supervised::default_trial_optimizer(args.modulated);
  if (args.learning_rate) config.optimizer->learning_rate = *args.learning_rate;
  config.optimizer->clip_grad_norm = args.clip;
  config.reset_at_trial_start = args.reset_at_trial_start;
  config.eval_trials = args.eval_trials;
  config.validate();
  return config;
}

void run_supervised(const SupervisedArgs& args) {
  supervised::TrialTrainerConfig config;
  const supervised::TrialRunOptions options{
      .iterations = args.iterations, .eval_every = args.eval_every, .out_dir = args.out};
  config = trainer_config(args);
  options.validate();
  const supervised::TrialRunResult result =
      supervised::run_trial_training(config, options, [&](const supervised::TrialHistory& history) {
        if (!args.quiet) {
          fmt::print("iteration {:>6}  loss {:.4f}  train accuracy {:.3f}  accuracy {:.3f}\n",
                     history.iterations.back(), history.losses.back(),
                     history.train_accuracies.back(), history.accuracies.back());
          std::fflush(stdout);
        }
        return true;
      });
  fmt::print("{} {}: accuracy {:.4f} ({} of {} held-out trials) after {} iterations, {:.1f} s\n",
             config.data.env_id, result.summary["network"].get<std::string>(),
             result.final_score.accuracy, result.final_score.correct, result.final_score.trials,
             result.history.iterations.back(), result.train_seconds);
  if (!args.out.empty()) fmt::print("run: {}\n", args.out);
}

}  // namespace

Command add_supervised_command(CLI::App& app) {
  auto args = std::make_shared<SupervisedArgs>();
  CLI::App* sub = app.add_subcommand(
      "supervised",
      "Train a recurrent network by supervision on a cognitive task (NeuroGym's recipe: trial "
      "windows, cross-entropy on every step, Adam) and print its held-out accuracy");
  sub->add_option("--env", args->env, "Cognitive task, e.g. PerceptualDecisionMaking-v0")
      ->required();
  sub->add_option("--kwargs", args->kwargs, "The task's make() keyword arguments (JSON object)");
  sub->add_option("--network", args->network, "Recurrent layer: elman, gru or lstm")
      ->capture_default_str();
  sub->add_flag("--modulated", args->modulated,
                "Fixed random weights; learn only the context's gains and biases");
  sub->add_option("--hidden", args->hidden, "Recurrent units")->capture_default_str();
  sub->add_option("--alpha", args->alpha, "Elman leak dt / tau in (0, 1]")->capture_default_str();
  sub->add_option("--spec", args->spec_file,
                  "A network spec (JSON, as checkpoints store it) instead of --network/--hidden")
      ->check(CLI::ExistingFile);
  sub->add_option("--iterations", args->iterations, "Training windows (optimizer steps)")
      ->capture_default_str();
  sub->add_option("--eval-every", args->eval_every,
                  "Evaluate every N iterations (0: only at the end)")
      ->capture_default_str();
  sub->add_option("--eval-trials", args->eval_trials, "Held-out trials per evaluation")
      ->capture_default_str();
  sub->add_option("--batch-size", args->batch_size, "Trial streams per window")
      ->capture_default_str();
  sub->add_option("--seq-len", args->seq_len, "Steps per window (the BPTT window)")
      ->capture_default_str();
  sub->add_option("--lr", args->learning_rate,
                  "Adam learning rate (default 0.01, 0.1 with --modulated)");
  sub->add_option("--clip", args->clip, "Gradient norm clip (0: none)")->capture_default_str();
  sub->add_option("--seed", args->seed, "Seed of the network and the trials")
      ->capture_default_str();
  sub->add_flag("--reset-at-trial-start", args->reset_at_trial_start,
                "Zero the recurrent state at each trial's first step");
  sub->add_option("--out", args->out,
                  "Run directory: config.json, metrics.csv, summary.json, network.ckpt");
  sub->add_flag("--quiet,-q", args->quiet, "No line per evaluation");
  return {sub, [args] { run_supervised(*args); }};
}

}  // namespace locus::cli
