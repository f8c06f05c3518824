#pragma once
// SupervisedLearner: a modulated or ordinary network trained on an ImageStream (Split, Permuted or
// Rotated Fashion-MNIST in any scenario), by sequential fine-tuning, incremental joint training
// (the stream's `joint` mode replays every earlier task's data), joint training on every task at
// once (the upper bound), experience replay from a small memory (ER, DER, DER++, A-GEM), or
// regularization (EWC, online EWC, MAS, SI, LwF; methods/regularizers.hpp), or parameter isolation
// (PackNet, XdG), with any optimizer, optionally with the NGM gain or a fixed-gain control.
//
// Networks:
//   mlp            the ordinary MLP of arXiv 2507.14056: hidden ReLU layers (2 x 400), no biases,
//                  every weight trainable, one shared context
//   modulated      the published modulated random-weight network (hong_pavlic_2022: 784 -> 7840
//                  sparse binary, per-context gain and output gain, fixed readout), one context per
//                  task, opened at the task's start (or where the training loss's surprise
//                  flags a new task: context_at_train, context_discovery.hpp); at test time
//                  picked by the task id, or inferred where the scenario hides it
//                  (context_at_test, context_inference.hpp)
//   modulated-mlp  fixed dense random layers of the `hidden` widths with per-context gain and bias
//                  (neuromod's modulated_mlp), one context per task
//
// Evaluation runs a forward pass on the task's fixed held-out subset with the task's context; it
// reads nothing that training depends on (forward() only overwrites the activations that the next
// training forward recomputes), so it leaves training unchanged.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench/harness/continual.hpp"
#include "bench/harness/methods/agem.hpp"
#include "bench/harness/methods/context_inference.hpp"
#include "bench/harness/methods/packnet.hpp"
#include "bench/harness/methods/regularizers.hpp"
#include "bench/harness/methods/replay_memory.hpp"
#include "bench/harness/methods/task_masks.hpp"
#include "bench/harness/supervised_config.hpp"
#include "envs/data/streams.hpp"
#include "neuromod/network.hpp"
#include "neuromod/ngm.hpp"

namespace locus::bench {

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
  // own context (context_of(task)) at its latest evaluation (NaN before one).
  double context_hit_rate(std::int64_t task) const;
  // The context task `task` trains or trained (with context_at_train on-change: the one selected
  // when its training ended); a task not trained yet gets the newest context.
  neuromod::ContextId context_of(std::int64_t task) const;
  // With context_at_train on-change: the context switches training made, in order.
  std::span<const ContextSwitch> context_switches() const;

 private:
  bool per_task_contexts() const {
    return config_.network != NetworkKind::kMlp || config_.xdg.enabled();
  }
  // The network, its optimizer and its gain control, initialized from `seed`.
  void build_network(std::uint64_t seed);
  // Copies the next minibatch of the current task, and the replayed examples after it, into
  // inputs_, labels_ and contexts_ (dark replay: the logit-matched block, then the labelled one,
  // with the first block's stored logits in stored_logits_); returns the current task's rows.
  std::int64_t fill_minibatch();
  void keep_stored_logits(const std::vector<const StoredExample*>& matched);
  // The network's outputs for the minibatch in inputs_ and contexts_.
  const neuromod::Matrix& forward_minibatch();
  // Puts the minibatch's rows on their contexts: each row's task's (told), or the selected one.
  void assign_row_contexts(std::span<const std::int64_t> origin_tasks);
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
  // The next plan of minibatches of the training task: an epoch, or draws with replacement.
  envs::data::EpochPlan next_plan() const;
  // Draws the trainable weights from normal(0, init_std[layer]).
  void initialize_weights(std::uint64_t seed);
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
  std::optional<PackNet> packnet_;
  std::vector<bool> seen_labels_;
  std::vector<double> context_hit_rates_;           // per task, with an inferred context
  std::optional<ContextDiscovery> discovery_;       // context_at_train on-change
  std::vector<neuromod::ContextId> task_contexts_;  // on-change: each finished task's context
  std::int64_t steps_ = 0;                          // training steps so far
  envs::data::Batch batch_;
  neuromod::Matrix inputs_;  // (batch, input_size)
  neuromod::Matrix gradient_;
  std::vector<std::int32_t> labels_;
  std::vector<neuromod::ContextId> contexts_;
  std::vector<neuromod::ContextId> eval_contexts_;
  neuromod::Matrix stored_logits_;  // dark replay: the matched block's stored logits
};

}  // namespace locus::bench
