// Supervised training on the cognitive tasks: short runs that must learn well above chance (a
// network that never answers scores 0 on PerceptualDecisionMaking, a coin flip 0.5), determinism,
// evaluation that leaves training unchanged, the run directory, and the errors.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "envs/errors.hpp"
#include "neuromod/checkpoint.hpp"
#include "neuromod/errors.hpp"
#include "supervised/trial_run.hpp"
#include "supervised/trial_trainer.hpp"

using namespace locus;
using namespace locus::supervised;

namespace {

TrialTrainerConfig small_config(const std::string& env, neuromod::Recurrence recurrence,
                                bool modulated) {
  TrialTrainerConfig config;
  config.data = {.env_id = env, .batch_size = 16, .seq_len = 50, .seed = 3};
  config.network = {.recurrence = recurrence, .hidden = 32, .modulated = modulated};
  config.eval_trials = 200;
  return config;
}

}  // namespace

TEST_CASE("A short run learns PerceptualDecisionMaking well above chance", "[supervised]") {
  const bool modulated = GENERATE(false, true);
  INFO((modulated ? "modulated" : "trainable"));
  TrialTrainer trainer(
      small_config("PerceptualDecisionMaking-v0", neuromod::Recurrence::kGru, modulated));
  const TrialHistory history = trainer.train(modulated ? 300 : 150, 0);
  REQUIRE(history.accuracies.size() == 1);
  REQUIRE(trainer.last_score()->trials == 200);
  // Chance is 0.5 for a network that answers at random at the right time.
  REQUIRE(history.accuracies.back() > 0.7);
}

TEST_CASE("GoNoGo and DelayMatchSample are learned, by every recurrent layer", "[supervised]") {
  // Withholding on every trial scores 0.5 (half the trials are No-Go).
  for (const auto recurrence : {neuromod::Recurrence::kLstm, neuromod::Recurrence::kElman}) {
    INFO(neuromod::to_string(recurrence));
    TrialTrainer trainer(small_config("GoNoGo-v0", recurrence, false));
    REQUIRE(trainer.train(200, 0).accuracies.back() > 0.8);
  }
  // Match or non-match at random scores 0.5; the answer needs the sample kept over the delay.
  TrialTrainer gru(small_config("DelayMatchSample-v0", neuromod::Recurrence::kGru, false));
  REQUIRE(gru.train(300, 0).accuracies.back() > 0.7);
}

TEST_CASE("Training is determined by the config, and evaluating leaves it unchanged",
          "[supervised]") {
  const TrialTrainerConfig config =
      small_config("ContextDecisionMaking-v0", neuromod::Recurrence::kGru, true);
  TrialTrainer a(config), b(config);
  for (int i = 0; i < 5; ++i) {
    const double loss_a = a.train_step().loss;
    (void)b.evaluate();  // between every step of b only
    REQUIRE(loss_a == b.train_step().loss);
  }
  REQUIRE(a.evaluate().correct == b.evaluate().correct);
  REQUIRE(a.network().read_parameter("layer0.gain", 0) ==
          b.network().read_parameter("layer0.gain", 0));
}

TEST_CASE("A run directory holds the config, metrics, summary and a loadable network",
          "[supervised]") {
  const auto dir = std::filesystem::temp_directory_path() / "locus_trial_run_test";
  std::filesystem::remove_all(dir);
  const TrialRunResult result =
      run_trial_training(small_config("GoNoGo-v0", neuromod::Recurrence::kGru, true),
                         {.iterations = 20, .eval_every = 10, .out_dir = dir});
  REQUIRE(result.history.iterations == std::vector<std::int64_t>{10, 20});
  for (const char* name : {"config.json", "metrics.csv", "summary.json", "network.ckpt"}) {
    REQUIRE(std::filesystem::exists(dir / name));
  }
  std::ifstream metrics(dir / "metrics.csv");
  std::string header, line;
  std::getline(metrics, header);
  REQUIRE(header == "iteration,loss,train_accuracy,accuracy");
  int rows = 0;
  while (std::getline(metrics, line)) ++rows;
  REQUIRE(rows == 2);
  auto network = neuromod::load_checkpoint(dir / "network.ckpt");
  REQUIRE(network->spec().is_recurrent());
  REQUIRE(result.summary["accuracy"].get<double>() == result.final_score.accuracy);
  std::filesystem::remove_all(dir);
}

TEST_CASE("Bad trainer settings are refused with the setting named", "[supervised]") {
  const auto make = [](const TrialTrainerConfig& config) { TrialTrainer trainer(config); };
  TrialTrainerConfig config = small_config("GoNoGo-v0", neuromod::Recurrence::kGru, false);
  REQUIRE_THROWS_WITH(recurrence_from_name("rnn"), Catch::Contains("use elman, gru or lstm"));
  TrialTrainerConfig no_hidden = config;
  no_hidden.network.hidden = 0;
  REQUIRE_THROWS_WITH(make(no_hidden), Catch::Contains("hidden must be at least 1"));
  TrialTrainerConfig dense = config;
  dense.network.spec = neuromod::modulated_mlp(4, {16}, 2, 0);
  REQUIRE_THROWS_WITH(make(dense), Catch::Contains("has no recurrent layer"));
  TrialTrainerConfig wrong_inputs = config;
  // GoNoGo observes 3 values and has 2 actions.
  wrong_inputs.network.spec =
      neuromod::recurrent_network(neuromod::Recurrence::kGru, 5, 8, 2, 0, false);
  REQUIRE_THROWS_WITH(make(wrong_inputs),
                      Catch::Contains("reads 5 inputs, but GoNoGo-v0 observes 3"));
  TrialTrainerConfig wrong_outputs = config;
  wrong_outputs.network.spec =
      neuromod::recurrent_network(neuromod::Recurrence::kGru, 3, 8, 1, 0, false);
  REQUIRE_THROWS_WITH(make(wrong_outputs), Catch::Contains("needs one head of at least 2 units"));
  TrialTrainerConfig no_trials = config;
  no_trials.eval_trials = 0;
  REQUIRE_THROWS_WITH(make(no_trials), Catch::Contains("eval_trials must be at least 1"));
  TrialTrainerConfig unknown = config;
  unknown.data.env_id = "GoNogo-v0";
  REQUIRE_THROWS_AS(make(unknown), envs::UnknownEnvError);
  REQUIRE_THROWS_WITH(run_trial_training(config, {.iterations = 0}),
                      Catch::Contains("iterations must be at least 1, got 0"));
}

TEST_CASE("an evaluation leaves a noisy network's noise stream where training left it",
          "[supervised]") {
  neuromod::NetworkSpec spec =
      neuromod::recurrent_network(neuromod::Recurrence::kElman, 3, 8, 2, 0, true, 0.2f);
  spec.layers[0].recurrent_noise = 0.1f;
  auto network = neuromod::make_network(spec);
  TrialEvaluation evaluation;
  evaluation.env_id = "GoNoGo-v0";
  evaluation.trials = 10;
  evaluation.batch_size = 4;
  evaluation.seq_len = 20;
  const std::uint64_t before = network->noise_position();
  evaluate_trials(*network, 0, evaluation);
  REQUIRE(network->noise_position() == before);
}
