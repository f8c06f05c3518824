#pragma once
// CognitiveLearner: one recurrent network trained by supervision through a sequence of cognitive
// tasks (each as NeuroGym trains one: supervised/trial_stream.hpp), as a bench::Learner, so that
// the harness measures forgetting and the stability gap of continual learning of cognitive tasks.
//
//   network: modulated   one fixed random recurrent network; task k trains its own context (the
//                        gain and bias of every gate unit, the readout's bias and output gain),
//                        chosen by the task id. Training task k cannot change task j's context:
//                        backward transfer is exactly 0 (the tests check it bit for bit).
//   network: trainable   an ordinary RNN, every weight trainable, one context fine-tuned through
//                        the sequence (the forgetting baseline).
//   separate: true       a fresh network at every task: R[j][j] is the accuracy of the same network
//                        trained on task j alone (the reference for each task's accuracy).
//
// Inputs: each task's observations padded with zeros to the largest task's, then, with
// rule_input, a one-hot task id (the rule inputs of Yang et al. 2019); one readout of the largest
// task's actions (a task's targets never name the extra ones).
//
//   train_step()   one window of batch_size x seq_len steps of the current task, one Adam step
//   evaluate(j)    NeuroGym's accuracy on task j: the arg-max at the last step of each of
//                  eval_trials held-out trials (the same trials every time), with task j's context
//                  (modulated) or the network's only one. It runs forward passes only, on its own
//                  data, so training after an evaluation is what it would have been without it.

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/harness/continual.hpp"
#include "bench/harness/task_list.hpp"
#include "neuromod/network.hpp"
#include "supervised/trial_evaluation.hpp"
#include "supervised/trial_stream.hpp"
#include "supervised/trial_trainer.hpp"

namespace locus::bench {

// The scenario of a cognitive sweep (the sweep config's `scenario:` mapping with kind: cognitive).
struct CognitiveScenario {
  std::vector<ScenarioTask> tasks;
  bool rule_input = true;
  std::int64_t eval_trials = 200;
  std::uint64_t eval_seed = 1000003;

  void validate() const;  // throws InvalidArgumentError naming the bad value
  // Keys: kind (must be "cognitive"), tasks (a list of "Id-vN" or {id, kwargs}), rule_input,
  // eval_trials, eval_seed. Unknown keys throw, listing the allowed ones.
  static CognitiveScenario from_json(const nlohmann::json& json);
  nlohmann::json to_json() const;  // with kind: cognitive, every key written
};

struct CognitiveConfig {
  CognitiveScenario scenario;
  supervised::RecurrentChoice network;  // recurrence, hidden, modulated, alpha
  std::optional<float> learning_rate;   // unset: supervised::default_trial_optimizer's
  std::size_t batch_size = 16;
  std::size_t seq_len = 100;
  bool separate = false;
  std::uint64_t seed = 0;
};

class CognitiveLearner final : public Learner {
 public:
  explicit CognitiveLearner(const CognitiveConfig& config);
  ~CognitiveLearner() override;

  std::int64_t num_tasks() const override;
  void begin_task(std::int64_t task) override;
  TrainStep train_step() override;
  double evaluate(std::int64_t task) override;
  std::int64_t parameter_count() const override;
  std::int64_t bytes_per_task() const override;

  const neuromod::Network& network() const { return *network_; }

 private:
  std::unique_ptr<neuromod::Network> make_fresh_network() const;
  neuromod::ContextId context_of(std::int64_t task) const;

  CognitiveConfig config_;
  std::size_t input_width_ = 0;  // the largest task's observation
  std::size_t num_actions_ = 0;  // the largest task's actions
  std::unique_ptr<neuromod::Network> network_;
  std::vector<supervised::TrialStream> streams_;          // per task
  std::vector<supervised::TrialEvaluation> evaluations_;  // per task
  std::int64_t task_ = -1;
};

// The settings of a cognitive run (keys of a sweep's defaults, methods and grid with scenario kind
// cognitive): network (modulated | trainable), recurrence (elman | gru | lstm), hidden, alpha, lr
// (0: the default), batch_size, seq_len, separate, and the harness's iterations_per_task,
// eval_every, gap_epsilon, gap_window. Throws InvalidArgumentError for an unknown key or a bad
// value.
CognitiveConfig cognitive_config(const nlohmann::json& scenario, const nlohmann::json& settings,
                                 std::uint64_t seed);
bool is_cognitive_setting(const std::string& key);
// `settings` with the harness settings it lacks (iterations_per_task, eval_every, gap_epsilon,
// gap_window) at a cognitive run's defaults, which differ from a supervised run's.
nlohmann::json with_cognitive_harness_defaults(nlohmann::json settings);
std::string cognitive_setting_names();
// One line per setting: key, default, meaning (for `locus sweep --help`).
std::string cognitive_settings_help();

}  // namespace locus::bench
