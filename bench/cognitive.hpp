#pragma once
// CognitiveLearner: continual learning of a sequence of cognitive tasks by one recurrent network
// trained by supervision (supervised/trial_stream.hpp: NeuroGym's recipe), through the harness
// (run_continual), so continual evaluation and the stability-gap metrics come with it.
//
// Networks (setting `network`):
//   modulated  one fixed random recurrent network (input, recurrent and readout weights from the
//              seed) with one context per task, chosen by the task id: training task k changes
//              only context k, so every earlier task's accuracy stays exactly where it was
//              (backward transfer 0), and task k's accuracy is what the network trained on task k
//              alone reaches (its context starts from the seed whatever came before)
//   trainable  an ordinary RNN of the same shape, every weight trainable, one context, fine-tuned
//              through the sequence (it should forget)
// The tasks share one network: its input is as wide as the widest task's observation (narrower
// ones padded with zeros) and its readout has as many units as the task with the most actions
// (the others use the first ones; an arg-max beyond a task's actions is wrong).
//
// Scenario (a sweep config's `scenario:` with kind: cognitive):
//   {kind: cognitive, tasks: [GoNoGo-v0, {id: PerceptualDecisionMaking-v0, kwargs: {...}}, ...],
//    eval_trials: 200, eval_seed: 1000003}
// Each task's score is NeuroGym's accuracy (supervised/trial_evaluation.hpp) on eval_trials
// held-out trials from eval_seed, the same trials at every evaluation and for every method.

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/continual.hpp"
#include "neuromod/network.hpp"
#include "supervised/trial_evaluation.hpp"
#include "supervised/trial_stream.hpp"

namespace locus::bench {

struct CognitiveTask {
  std::string id;
  nlohmann::json kwargs = nlohmann::json::object();
};

struct CognitiveScenario {
  std::vector<CognitiveTask> tasks;
  std::int64_t eval_trials = 200;
  std::uint64_t eval_seed = 1000003;
  void validate() const;
  // Keys kind (must be "cognitive"), tasks, eval_trials, eval_seed; unknown keys throw
  // InvalidArgumentError listing the allowed ones.
  static CognitiveScenario from_json(const nlohmann::json& json);
  nlohmann::json to_json() const;
};

struct CognitiveConfig {
  CognitiveScenario scenario;
  bool modulated = true;
  neuromod::Recurrence recurrence = neuromod::Recurrence::kGru;
  std::size_t hidden = 64;
  std::size_t batch_size = 16;
  std::size_t seq_len = 100;
  std::optional<float> learning_rate;  // default: supervised::default_trial_optimizer's
  bool reset_at_trial_start = false;
  std::uint64_t seed = 0;  // the network and the training trials
};

class CognitiveLearner final : public Learner {
 public:
  explicit CognitiveLearner(const CognitiveConfig& config);

  std::int64_t num_tasks() const override;
  void begin_task(std::int64_t task) override;
  TrainStep train_step() override;
  double evaluate(std::int64_t task) override;
  std::int64_t parameter_count() const override;
  std::int64_t bytes_per_task() const override;

  const neuromod::Network& network() const { return *network_; }

 private:
  neuromod::ContextId context_of(std::int64_t task) const;

  CognitiveConfig config_;
  std::vector<supervised::TrialStream> streams_;  // one per task
  std::unique_ptr<neuromod::Network> network_;
  std::int64_t task_ = -1;
};

// The settings of a cognitive run (a sweep's defaults, methods and grid with scenario kind
// cognitive): iterations_per_task, eval_every, gap_epsilon, gap_window, network (modulated or
// trainable), recurrence (elman, gru, lstm), hidden, batch_size, seq_len, learning_rate (0: the
// default), reset_at_trial_start. Throws InvalidArgumentError for an unknown key or a bad value.
CognitiveConfig cognitive_config(const nlohmann::json& scenario, const nlohmann::json& settings,
                                 std::uint64_t seed);
bool is_cognitive_setting(const std::string& key);
std::string cognitive_setting_names();
std::string cognitive_settings_help();

}  // namespace locus::bench
