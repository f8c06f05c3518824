#include "supervised/trial_run.hpp"

#include <fmt/core.h>

#include <chrono>
#include <system_error>

#include "neuromod/checkpoint.hpp"
#include "neuromod/errors.hpp"
#include "util/atomic_file.hpp"

namespace locus::supervised {

namespace fs = std::filesystem;

namespace {

void write_text(const fs::path& path, const std::string& text) {
  util::write_file_atomically<neuromod::CheckpointError>(path, text);
}

std::string metrics_csv(const TrialHistory& history) {
  std::string text = "iteration,loss,train_accuracy,accuracy\n";
  for (std::size_t i = 0; i < history.iterations.size(); ++i) {
    text += fmt::format("{},{:.6g},{:.6g},{:.6g}\n", history.iterations[i], history.losses[i],
                        history.train_accuracies[i], history.accuracies[i]);
  }
  return text;
}

nlohmann::json summary_json(const TrialTrainerConfig& config, const TrialHistory& history,
                            double seconds) {
  nlohmann::json summary;
  summary["env"] = config.data.env_id;
  summary["network"] =
      config.network.spec
          ? config.network.spec->name
          : fmt::format("{}_{}", config.network.modulated ? "modulated" : "trainable",
                        neuromod::to_string(config.network.recurrence));
  summary["iterations"] = history.iterations.empty() ? 0 : history.iterations.back();
  summary["accuracy"] =
      history.accuracies.empty() ? nlohmann::json() : nlohmann::json(history.accuracies.back());
  summary["eval_trials"] = config.eval_trials;
  summary["train_seconds"] = seconds;
  return summary;
}

// A new run's directory: made if missing; one that holds a run already is refused rather than
// mixed with the new run's files.
void make_out_dir(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error || !fs::is_directory(dir)) {
    throw neuromod::InvalidArgumentError(
        fmt::format("cannot make the output directory {}: {}", dir.string(),
                    error ? error.message() : "a file of that name exists"));
  }
  if (fs::exists(dir / "config.json") || fs::exists(dir / "network.ckpt")) {
    throw neuromod::InvalidArgumentError(fmt::format(
        "{} already holds a run (config.json); choose another output directory or delete it",
        dir.string()));
  }
}

}  // namespace

void TrialRunOptions::validate() const {
  if (iterations < 1) {
    throw neuromod::InvalidArgumentError(
        fmt::format("iterations must be at least 1, got {}", iterations));
  }
  if (eval_every < 0) {
    throw neuromod::InvalidArgumentError(
        fmt::format("eval_every must be 0 (only at the end) or more, got {}", eval_every));
  }
}

nlohmann::json to_json(const TrialTrainerConfig& config) {
  nlohmann::json j;
  j["env"] = config.data.env_id;
  j["env_kwargs"] = config.data.env_kwargs;
  j["batch_size"] = config.data.batch_size;
  j["seq_len"] = config.data.seq_len;
  j["seed"] = config.data.seed;
  j["reset_at_trial_start"] = config.reset_at_trial_start;
  j["eval_trials"] = config.eval_trials;
  j["backend"] = neuromod::to_string(config.backend);
  const neuromod::OptimizerConfig optimizer = config.optimizer_or_default();
  j["optimizer"] = {{"kind", neuromod::to_string(optimizer.kind)},
                    {"learning_rate", optimizer.learning_rate},
                    {"clip_grad_norm", optimizer.clip_grad_norm}};
  if (config.network.spec) {
    j["network_spec"] = nlohmann::json::parse(neuromod::to_json(*config.network.spec));
  } else {
    j["network"] = {{"recurrence", neuromod::to_string(config.network.recurrence)},
                    {"hidden", config.network.hidden},
                    {"modulated", config.network.modulated},
                    {"alpha", config.network.alpha}};
  }
  return j;
}

TrialRunResult run_trial_training(const TrialTrainerConfig& config, const TrialRunOptions& options,
                                  const std::function<bool(const TrialHistory&)>& on_evaluation) {
  options.validate();
  TrialTrainer trainer(config);
  const bool writing = !options.out_dir.empty();
  if (writing) {
    make_out_dir(options.out_dir);
    write_text(options.out_dir / "config.json", to_json(config).dump(2) + "\n");
  }
  const auto start = std::chrono::steady_clock::now();
  const auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  TrialRunResult result;
  result.history =
      trainer.train(options.iterations, options.eval_every, [&](const TrialHistory& history) {
        if (writing) {
          write_text(options.out_dir / "metrics.csv", metrics_csv(history));
          write_text(options.out_dir / "summary.json",
                     summary_json(config, history, seconds()).dump(2) + "\n");
        }
        return !on_evaluation || on_evaluation(history);
      });
  result.train_seconds = seconds();
  result.final_score = *trainer.last_score();  // train() evaluates after its last iteration
  result.summary = summary_json(config, result.history, result.train_seconds);
  result.summary["correct"] = result.final_score.correct;
  if (writing) {
    neuromod::save_checkpoint(trainer.network(), options.out_dir / "network.ckpt");
    write_text(options.out_dir / "summary.json", result.summary.dump(2) + "\n");
  }
  return result;
}

}  // namespace locus::supervised
