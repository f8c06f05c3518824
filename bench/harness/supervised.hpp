#pragma once
// SupervisedLearner: a modulated or ordinary network trained on an ImageStream (Split, Permuted or
// Rotated Fashion-MNIST in any scenario), by sequential fine-tuning, incremental joint training
// (the stream's `joint` mode replays every earlier task's data), joint training on every task at
// once (the upper bound), experience replay from a small memory (ER, DER, DER++, A-GEM), or
// regularization (EWC, online EWC, MAS, SI, LwF; methods/regularizers.hpp), with any optimizer,
// optionally with the NGM gain or a fixed-gain control.
//
// Networks:
//   mlp            the ordinary MLP of arXiv 2507.14056: hidden ReLU layers (2 x 400), no biases,
//                  every weight trainable, one shared context
//   modulated      the published modulated random-weight network (hong_pavlic_2022: 784 -> 7840
//                  sparse binary, per-context gain and output gain, fixed readout), one context per
//                  task, opened at the task's start; at test time picked by the task id, or
//                  inferred where the scenario hides it (context_at_test, context_inference.hpp)
//   modulated-mlp  fixed dense random layers of the `hidden` widths with per-context gain and bias
//                  (neuromod's modulated_mlp), one context per task
//
// Evaluation runs a forward pass on the task's fixed held-out subset with the task's context; it
// reads nothing that training depends on (forward() only overwrites the activations that the next
// training forward recomputes), so it leaves training unchanged.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/harness/continual.hpp"
#include "bench/harness/methods/agem.hpp"
#include "bench/harness/methods/context_inference.hpp"
#include "bench/harness/methods/regularizers.hpp"
#include "bench/harness/methods/replay_memory.hpp"
#include "envs/data/streams.hpp"
#include "neuromod/network.hpp"
#include "neuromod/ngm.hpp"

namespace locus::bench {

enum class NetworkKind { kMlp, kModulated, kModulatedMlp };
std::string_view network_kind_name(NetworkKind kind);  // "mlp", "modulated", "modulated-mlp"
NetworkKind network_kind_from_name(std::string_view name);

struct SupervisedConfig {
  envs::data::StreamConfig stream;
  NetworkKind network = NetworkKind::kMlp;
  std::vector<std::size_t> hidden = {400, 400};  // mlp and modulated-mlp
  neuromod::OptimizerConfig optimizer;
  std::int64_t batch_size = 64;
  std::uint64_t seed = 0;                              // the network's initialization
  neuromod::Backend device = neuromod::Backend::kCpu;  // where the network runs
  neuromod::MatmulPrecision precision = neuromod::MatmulPrecision::kFloat32;  // of its products
  // A fresh network (and optimizer) at the start of every task: R[j][j] is then the accuracy of a
  // network of the same size trained on task j alone, the reference of the modulated network's
  // per-task accuracy. Only for the ordinary MLP, task-incremental, without joint replay.
  bool separate = false;
  bool ngm = false;
  neuromod::NgmConfig ngm_config;
  // A fixed weight gain on ngm_config.target (the control of an NGM method); exclusive with ngm.
  std::optional<float> fixed_gain;
  // Experience replay (replay_memory.hpp): `memory` examples kept from the stream (0: off), and
  // `batch` of them drawn beside every minibatch of the current task (0: as many as batch_size).
  // With der_alpha or der_beta > 0 it is dark experience replay (dark_replay.hpp): DER matches
  // the stored logits of `batch` examples (weight der_alpha); DER++ also replays `batch` others
  // for their labels (weight der_beta).
  struct Replay {
    std::int64_t memory = 0;
    std::int64_t batch = 0;
    bool class_balanced = false;
    double der_alpha = 0.0;
    double der_beta = 0.0;
    bool dark() const { return der_alpha > 0.0 || der_beta > 0.0; }
  } replay;
  // A-GEM (agem.hpp): `batch` examples drawn from the replay memory, which is given each finished
  // task's examples, give the reference gradient that the step's gradient is projected against;
  // they do not join the minibatch.
  bool agem = false;
  // EWC, MAS, SI and LwF (methods/regularizers.hpp), each off at weight 0.
  RegularizerConfig regularizers;
  // Every task's training data from the first iteration on (Avalanche's JointTraining, the upper
  // bound of a sequence): the stream's joint mode, each task's iterations drawn from the union of
  // all tasks. The accuracy matrix is still measured per task, at the same points.
  bool joint_offline = false;
  // How a network with one context per task picks the context at test time.
  ContextAtTest context_at_test = ContextAtTest::kGiven;
  void validate() const;
};

class SupervisedLearner final : public Learner {
 public:
  explicit SupervisedLearner(const SupervisedConfig& config);

  std::int64_t num_tasks() const override;
  void begin_task(std::int64_t task) override;
  TrainStep train_step() override;
  double evaluate(std::int64_t task) override;
  std::int64_t parameter_count() const override;
  std::int64_t bytes_per_task() const override;
  std::optional<double> gain() const override;

  const neuromod::Network& network() const { return *network_; }
  const envs::data::ImageStream& stream() const { return *stream_; }
  // With an inferred context: the share of task `task`'s evaluation rows that picked the task's
  // own context at its latest evaluation (NaN before one).
  double context_hit_rate(std::int64_t task) const;

 private:
  bool per_task_contexts() const { return config_.network != NetworkKind::kMlp; }
  // The network, its optimizer and its gain control, initialized from `seed`.
  void build_network(std::uint64_t seed);
  // Copies the next minibatch of the current task, and the replayed examples after it, into
  // inputs_, labels_ and contexts_ (dark replay: the logit-matched block, then the labelled one,
  // with the first block's stored logits in stored_logits_); returns the current task's rows.
  std::int64_t fill_minibatch();
  void keep_stored_logits(const std::vector<const StoredExample*>& matched);
  // The minibatch's loss and its gradient (gradient_) from the network's outputs.
  double minibatch_loss(const neuromod::Matrix& outputs, std::int64_t current_rows);
  // Up to `max` minibatches (0: one epoch) of `task`'s first epoch, in its own order: the same
  // batches whatever the training reached. For the regularizers' importance estimates.
  std::vector<Minibatch> task_batches(std::int64_t task, std::int64_t max) const;
  // The output units of the classes trained so far (LwF's distilled units): every unit where the
  // tasks share them, those of the labels seen in training where they do not (class-incremental).
  std::vector<std::size_t> seen_units() const;
  // A-GEM: the finished task's first epoch offered to the memory, which so holds only earlier
  // tasks' examples (a reservoir over them), as A-GEM's episodic memory does.
  void remember_task(std::int64_t task);
  // A-GEM: the reference gradient of a minibatch drawn from the memory.
  void compute_agem_reference();
  // The task whose epochs train now (the last one's, the union of all, for joint_offline).
  std::int64_t training_task() const;
  // Offers the current task's rows of the minibatch (and, for dark replay, their logits) to the
  // replay memory.
  void remember_minibatch(std::int64_t rows, const neuromod::Matrix& outputs);

  struct EvalSet {
    neuromod::Matrix inputs;           // (rows, input_size)
    std::vector<std::int32_t> labels;  // (rows)
  };

  SupervisedConfig config_;
  std::shared_ptr<const envs::data::ImageStream> stream_;
  std::unique_ptr<neuromod::Network> network_;
  std::optional<neuromod::NgmGain> ngm_;
  std::vector<std::optional<EvalSet>> eval_sets_;  // built on first use
  std::int64_t task_ = -1;
  std::int64_t epoch_ = 0;
  std::int64_t batch_index_ = 0;
  std::optional<envs::data::EpochPlan> plan_;
  std::optional<ReplayMemory> memory_;
  std::optional<Regularizers> regularizers_;
  std::optional<Agem> agem_;
  std::vector<bool> seen_labels_;
  std::vector<double> context_hit_rates_;  // per task, with an inferred context
  envs::data::Batch batch_;
  neuromod::Matrix inputs_;  // (batch, input_size)
  neuromod::Matrix gradient_;
  std::vector<std::int32_t> labels_;
  std::vector<neuromod::ContextId> contexts_;
  std::vector<neuromod::ContextId> eval_contexts_;
  neuromod::Matrix stored_logits_;  // dark replay: the matched block's stored logits
};

}  // namespace locus::bench
