#include "bench/harness/supervised.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "bench/harness/errors.hpp"
#include "bench/harness/methods/dark_replay.hpp"
#include "neuromod/errors.hpp"
#include "neuromod/losses.hpp"
#include "neuromod/presets.hpp"

namespace locus::bench {

namespace nm = locus::neuromod;
namespace data = locus::envs::data;

SupervisedLearner::SupervisedLearner(const SupervisedConfig& config) : config_(config) {
  config_.validate();
  stream_ = data::make_shared_stream(config_.stream);
  build_network(config_.seed);
  eval_sets_.resize(static_cast<std::size_t>(stream_->num_tasks()));
  if (config_.regularizers.any()) regularizers_.emplace(config_.regularizers);
  if (config_.agem) agem_.emplace();
  if (config_.packnet.enabled()) packnet_.emplace(config_.packnet);
  if (config_.context_at_train == ContextAtTrain::kOnChange) discovery_.emplace(config_.discovery);
  seen_labels_.assign(static_cast<std::size_t>(stream_->num_outputs()), false);
  context_hit_rates_.assign(static_cast<std::size_t>(stream_->num_tasks()), std::nan(""));
  if (config_.replay.memory > 0) {
    // Its own stream of draws, apart from the network's and the data order's.
    memory_.emplace(config_.replay.memory, config_.replay.class_balanced,
                    config_.seed ^ 0x7265706c6179ULL);
  }
}

void SupervisedLearner::build_network(std::uint64_t seed) {
  const auto inputs = static_cast<std::size_t>(stream_->input_size());
  const auto outputs = static_cast<std::size_t>(stream_->num_outputs());
  nm::NetworkSpec spec;
  nm::GradientMode mode = nm::GradientMode::kContextOnly;
  switch (config_.network) {
    case NetworkKind::kMlp:
      spec = nm::baseline_mlp(inputs, config_.hidden, outputs, seed, /*with_biases=*/false);
      if (config_.xdg.enabled()) add_gating_gains(spec);
      mode = nm::GradientMode::kAllTrainable;
      break;
    case NetworkKind::kModulated:
      spec = nm::hong_pavlic_2022(seed).network;
      if (spec.input_dim != inputs) {
        throw InvalidArgumentError(
            fmt::format("network 'modulated' takes {} inputs; the stream's images have {}",
                        spec.input_dim, inputs));
      }
      spec.heads.front().units = outputs;
      break;
    case NetworkKind::kModulatedMlp:
      spec = nm::modulated_mlp(inputs, config_.hidden, outputs, seed);
      break;
  }
  network_ = nm::make_network(spec, config_.device);
  if (!config_.init_std.empty()) initialize_weights(seed);
  try {
    network_->set_matmul_precision(config_.precision);
  } catch (const nm::InvalidArgumentError& e) {
    throw InvalidArgumentError(fmt::format("setting 'precision': {}", e.what()));
  }
  network_->set_gradient_mode(mode);
  network_->set_optimizer(config_.optimizer);
  ngm_.reset();
  if (config_.ngm) {
    ngm_.emplace(config_.ngm_config);
    ngm_->attach(*network_);
  } else if (config_.fixed_gain) {
    nm::apply_weight_gain(*network_, config_.ngm_config.target, *config_.fixed_gain);
  }
  if (config_.xdg.enabled()) gate_context(*network_, 0, config_.seed, config_.xdg.keep);
}

void SupervisedLearner::initialize_weights(std::uint64_t seed) {
  std::vector<nm::ParameterInfo> weights;
  for (const auto& info : network_->parameters()) {
    const bool weight =
        info.kind == nm::ParameterKind::kLayerWeight || info.kind == nm::ParameterKind::kHeadWeight;
    if (weight && info.trainable && info.context == nm::kSharedContext) weights.push_back(info);
  }
  if (weights.size() != config_.init_std.size()) {
    throw InvalidArgumentError(fmt::format(
        "init_std lists {} standard deviations; the network has {} trainable weight layers (the "
        "hidden layers', then the output's)",
        config_.init_std.size(), weights.size()));
  }
  // Its own stream of draws, apart from the network's own initialization.
  envs::Rng rng(envs::SeedSequence(seed ^ 0x696e6974ULL));
  for (std::size_t layer = 0; layer < weights.size(); ++layer) {
    std::vector<float> values(weights[layer].size());
    for (auto& v : values) v = static_cast<float>(rng.normal(0.0, config_.init_std[layer]));
    network_->write_parameter(weights[layer].name, nm::kSharedContext, values);
  }
}

std::int64_t SupervisedLearner::num_tasks() const {
  return stream_->num_tasks();
}

void SupervisedLearner::begin_task(std::int64_t task) {
  if (task != task_ + 1 || task >= num_tasks()) {
    throw InvalidArgumentError(fmt::format("begin_task({}) out of order: expected task {} of {}",
                                           task, task_ + 1, num_tasks()));
  }
  // The single-task reference: every task after the first starts from a new network, initialized
  // from its own seed so that no two tasks share a starting point.
  if (config_.separate && task > 0) build_network(config_.seed + std::uint64_t(task) * 7919);
  if (regularizers_) {
    regularizers_->begin_task(
        *network_, task,
        [this](std::int64_t finished, std::int64_t max) { return task_batches(finished, max); },
        seen_units());
  }
  if (agem_ && task > 0) remember_task(task - 1);
  if (packnet_) packnet_->begin_task(*network_, task);
  task_ = task;
  epoch_ = 0;
  batch_index_ = 0;
  plan_.emplace(next_plan());
  if (plan_->num_batches() == 0) {
    throw InvalidArgumentError(
        fmt::format("task {} has {} training examples, fewer than one batch of {}", task,
                    plan_->num_examples(), config_.batch_size));
  }
  if (discovery_) {
    // Told nothing: training goes on in the context it has, and the finished task is noted as
    // trained in it (the task's own context for the evaluation's hit rates).
    if (task > 0) task_contexts_.push_back(network_->selected_context());
  } else if (per_task_contexts()) {
    while (static_cast<std::int64_t>(network_->context_count()) <= task) {
      const nm::ContextId context = network_->add_context();
      if (config_.xdg.enabled()) gate_context(*network_, context, config_.seed, config_.xdg.keep);
    }
    network_->select_context(static_cast<nm::ContextId>(task));
  }
}

TrainStep SupervisedLearner::train_step() {
  if (task_ < 0) throw InvalidArgumentError("train_step() before begin_task(0)");
  if (batch_index_ >= plan_->num_batches()) {
    ++epoch_;
    batch_index_ = 0;
    plan_.emplace(next_plan());
  }
  if (agem_) compute_agem_reference();
  const std::int64_t current_rows = fill_minibatch();
  const nm::Matrix* outputs = &forward_minibatch();
  TrainStep step;
  step.loss = minibatch_loss(*outputs, current_rows);
  if (discovery_ && discovery_->observe(*network_, inputs_, labels_, step.loss, steps_)) {
    assign_row_contexts(batch_.origin_tasks);
    outputs = &forward_minibatch();
    step.loss = minibatch_loss(*outputs, current_rows);
  }
  ++steps_;
  if (regularizers_) {
    step.loss += regularizers_->add_distillation(inputs_, *outputs, current_rows, gradient_);
  }
  step.samples = static_cast<std::int64_t>(labels_.size());
  network_->zero_grad();
  network_->backward(gradient_);
  if (regularizers_) regularizers_->before_step(*network_);
  if (agem_) agem_->project(*network_);
  if (packnet_) packnet_->before_step(*network_);
  network_->step();
  if (packnet_) packnet_->after_step(*network_);
  if (regularizers_) regularizers_->after_step(*network_);
  if (ngm_) ngm_->update(*network_, *outputs);
  remember_minibatch(current_rows, *outputs);
  return step;
}

const nm::Matrix& SupervisedLearner::forward_minibatch() {
  std::span<const nm::ContextId> contexts;
  if (per_task_contexts()) contexts = contexts_;
  return network_->forward(inputs_, contexts).front();
}

void SupervisedLearner::assign_row_contexts(std::span<const std::int64_t> origin_tasks) {
  if (discovery_) {
    contexts_.assign(origin_tasks.size(), network_->selected_context());
    return;
  }
  // Training knows each row's task (where the scenario hides it from the data too): a network
  // with one context per task trains the row's own.
  contexts_.assign(origin_tasks.begin(), origin_tasks.end());
}

double SupervisedLearner::minibatch_loss(const nm::Matrix& outputs, std::int64_t current_rows) {
  if (!config_.replay.dark()) return nm::softmax_cross_entropy(outputs, labels_, &gradient_);
  return dark_replay_loss(outputs, labels_, current_rows, stored_logits_, config_.replay.der_alpha,
                          config_.replay.der_beta, gradient_)
      .total;
}

std::int64_t SupervisedLearner::fill_minibatch() {
  plan_->fill(batch_index_++, batch_);
  // The replayed rows, drawn first so that inputs_ is sized once: for dark replay the
  // logit-matched block (its stored logits kept aside), then the labelled one.
  for (const auto label : batch_.labels) {
    if (label >= 0 && static_cast<std::size_t>(label) < seen_labels_.size()) {
      seen_labels_[static_cast<std::size_t>(label)] = true;
    }
  }
  std::vector<const StoredExample*> replayed;
  if (memory_ && !agem_) {
    const std::int64_t draw = config_.replay.batch > 0 ? config_.replay.batch : config_.batch_size;
    if (!config_.replay.dark()) {
      replayed = memory_->sample(draw);
    } else {
      if (config_.replay.der_alpha > 0.0) replayed = memory_->sample(draw);
      keep_stored_logits(replayed);
      if (config_.replay.der_beta > 0.0) {
        const auto labelled = memory_->sample(draw);
        replayed.insert(replayed.end(), labelled.begin(), labelled.end());
      }
    }
  }
  const auto rows = static_cast<std::size_t>(batch_.size);
  const auto cols = static_cast<std::size_t>(batch_.input_size);
  const std::size_t total = rows + replayed.size();
  if (inputs_.shape(0) != total || inputs_.shape(1) != cols) inputs_.resize({total, cols});
  std::memcpy(inputs_.data(), batch_.inputs.data(), rows * cols * sizeof(float));
  labels_.assign(batch_.labels.begin(), batch_.labels.end());
  assign_row_contexts(batch_.origin_tasks);
  for (std::size_t r = 0; r < replayed.size(); ++r) {
    std::memcpy(inputs_.data() + (rows + r) * cols, replayed[r]->input.data(),
                cols * sizeof(float));
    labels_.push_back(static_cast<std::int32_t>(replayed[r]->label));
    contexts_.push_back(static_cast<nm::ContextId>(replayed[r]->origin_task));
  }
  return batch_.size;
}

void SupervisedLearner::keep_stored_logits(const std::vector<const StoredExample*>& matched) {
  const auto outputs = static_cast<std::size_t>(stream_->num_outputs());
  if (stored_logits_.shape(0) != matched.size() || stored_logits_.shape(1) != outputs) {
    stored_logits_.resize({matched.size(), outputs});
  }
  for (std::size_t r = 0; r < matched.size(); ++r) {
    std::memcpy(stored_logits_.data() + r * outputs, matched[r]->logits.data(),
                outputs * sizeof(float));
  }
}

std::vector<Minibatch> SupervisedLearner::task_batches(std::int64_t task, std::int64_t max) const {
  const data::EpochPlan plan = stream_->epoch(task, 0, config_.batch_size, /*drop_last=*/true);
  const std::int64_t count = max > 0 ? std::min(max, plan.num_batches()) : plan.num_batches();
  std::vector<Minibatch> batches(static_cast<std::size_t>(count));
  data::Batch batch;
  for (std::int64_t b = 0; b < count; ++b) {
    plan.fill(b, batch);
    Minibatch& out = batches[static_cast<std::size_t>(b)];
    out.inputs.resize(
        {static_cast<std::size_t>(batch.size), static_cast<std::size_t>(batch.input_size)});
    std::memcpy(out.inputs.data(), batch.inputs.data(), batch.inputs.size() * sizeof(float));
    out.labels.assign(batch.labels.begin(), batch.labels.end());
  }
  return batches;
}

std::vector<std::size_t> SupervisedLearner::seen_units() const {
  const bool class_units = config_.stream.scenario == data::Scenario::kClassIncremental;
  std::vector<std::size_t> units;
  for (std::size_t unit = 0; unit < seen_labels_.size(); ++unit) {
    if (!class_units || seen_labels_[unit]) units.push_back(unit);
  }
  return units;
}

void SupervisedLearner::compute_agem_reference() {
  if (memory_->size() == 0) return;
  const std::int64_t draw = config_.replay.batch > 0 ? config_.replay.batch : config_.batch_size;
  const auto drawn = memory_->sample(draw);
  const std::size_t cols = static_cast<std::size_t>(stream_->input_size());
  Minibatch reference;
  reference.inputs.resize({drawn.size(), cols});
  for (std::size_t r = 0; r < drawn.size(); ++r) {
    std::memcpy(reference.inputs.data() + r * cols, drawn[r]->input.data(), cols * sizeof(float));
    reference.labels.push_back(static_cast<std::int32_t>(drawn[r]->label));
  }
  agem_->compute_reference(*network_, reference);
}

data::EpochPlan SupervisedLearner::next_plan() const {
  if (!config_.sample_with_replacement) {
    return stream_->epoch(training_task(), epoch_, config_.batch_size, /*drop_last=*/true);
  }
  // As many draws as an epoch has examples, so that a plan lasts as long either way.
  const auto examples =
      static_cast<std::int64_t>(stream_->indices(training_task(), data::Split::kTrain).size());
  const std::int64_t batches = std::max<std::int64_t>(1, examples / config_.batch_size);
  return stream_->draws(training_task(), epoch_, config_.batch_size, batches);
}

std::int64_t SupervisedLearner::training_task() const {
  return config_.joint_offline ? num_tasks() - 1 : task_;
}

void SupervisedLearner::remember_task(std::int64_t task) {
  const auto cols = static_cast<std::size_t>(stream_->input_size());
  for (const Minibatch& batch : task_batches(task, 0)) {
    for (std::size_t r = 0; r < batch.labels.size(); ++r) {
      memory_->offer(std::span<const float>(batch.inputs.data() + r * cols, cols), batch.labels[r],
                     task, task);
    }
  }
}

void SupervisedLearner::remember_minibatch(std::int64_t rows, const nm::Matrix& outputs) {
  if (!memory_ || agem_) return;
  const auto cols = static_cast<std::size_t>(batch_.input_size);
  const std::size_t width = outputs.shape(1);
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto row = static_cast<std::size_t>(r);
    std::span<const float> logits;
    if (config_.replay.dark()) logits = std::span<const float>(outputs.data() + row * width, width);
    memory_->offer(std::span<const float>(batch_.inputs.data() + row * cols, cols),
                   batch_.labels[row], batch_.task_ids[row], batch_.origin_tasks[row], logits);
  }
}

double SupervisedLearner::evaluate(std::int64_t task) {
  if (task < 0 || task >= num_tasks()) {
    throw InvalidArgumentError(
        fmt::format("evaluate({}) out of range: tasks 0..{}", task, num_tasks() - 1));
  }
  auto& slot = eval_sets_[static_cast<std::size_t>(task)];
  if (!slot) {
    const data::Batch batch = stream_->eval_set(task);
    EvalSet set;
    set.inputs.resize(
        {static_cast<std::size_t>(batch.size), static_cast<std::size_t>(batch.input_size)});
    std::memcpy(set.inputs.data(), batch.inputs.data(), batch.inputs.size() * sizeof(float));
    set.labels.assign(batch.labels.begin(), batch.labels.end());
    slot = std::move(set);
  }
  if (per_task_contexts() && infers_context(config_.context_at_test)) {
    const InferredEvaluation inferred = evaluate_inferring_context(
        *network_, slot->inputs, slot->labels, context_of(task), config_.context_at_test);
    const auto rows = static_cast<double>(std::max<std::size_t>(slot->labels.size(), 1));
    context_hit_rates_[static_cast<std::size_t>(task)] =
        static_cast<double>(inferred.right_context) / rows;
    return static_cast<double>(inferred.correct) / rows;
  }
  std::span<const nm::ContextId> contexts;
  if (per_task_contexts()) {
    eval_contexts_.assign(slot->labels.size(), context_of(task));
    contexts = eval_contexts_;
  }
  // PackNet: task j sees only the weights of tasks <= j, and training its own afterwards.
  if (packnet_) packnet_->show_task(*network_, task);
  const auto& outputs = network_->forward(slot->inputs, contexts);
  const std::size_t correct = nm::count_correct(outputs.front(), slot->labels);
  if (packnet_) packnet_->restore_after_evaluation(*network_);
  return slot->labels.empty()
             ? 0.0
             : static_cast<double>(correct) / static_cast<double>(slot->labels.size());
}

nm::ContextId SupervisedLearner::context_of(std::int64_t task) const {
  if (discovery_) {
    if (task < static_cast<std::int64_t>(task_contexts_.size())) {
      return task_contexts_[static_cast<std::size_t>(task)];
    }
    if (task == task_) return network_->selected_context();
  }
  // A task not trained yet has no context: it is scored with the newest one (what the learner
  // would use for it now), which is how R[j-1][j] and b[j] are defined for this network.
  return static_cast<nm::ContextId>(
      std::min<std::int64_t>(task, static_cast<std::int64_t>(network_->context_count()) - 1));
}

std::span<const ContextSwitch> SupervisedLearner::context_switches() const {
  if (!discovery_) return {};
  return discovery_->switches();
}

double SupervisedLearner::context_hit_rate(std::int64_t task) const {
  return context_hit_rates_.at(static_cast<std::size_t>(task));
}

std::int64_t SupervisedLearner::parameter_count() const {
  std::int64_t count = 0;
  for (const auto& info : network_->parameters()) {
    const bool learned =
        info.context != nm::kSharedContext
            ? !network_->is_frozen(info.context)  // XdG's masks are fixed
            : info.trainable && network_->gradient_mode() == nm::GradientMode::kAllTrainable;
    if (learned) count += static_cast<std::int64_t>(info.size());
  }
  return count;
}

std::int64_t SupervisedLearner::bytes_per_task() const {
  std::int64_t bytes = 0;
  if (per_task_contexts())
    bytes += static_cast<std::int64_t>(nm::memory_report(*network_).context_bytes);
  if (config_.stream.joint && num_tasks() > 0) {
    // Replay keeps the task's training images (uint8 pixels) and labels (one byte).
    std::int64_t examples = 0;
    for (std::int64_t t = 0; t < num_tasks(); ++t) {
      examples += static_cast<std::int64_t>(stream_->indices(t, data::Split::kTrain).size());
    }
    bytes += examples * (stream_->input_size() + 1) / num_tasks();
  }
  // A replay memory is shared by the tasks: its full size over the tasks it will hold.
  if (memory_ && num_tasks() > 0) {
    bytes += config_.replay.memory *
             (stream_->input_size() * static_cast<std::int64_t>(sizeof(float)) +
              static_cast<std::int64_t>(sizeof(std::int64_t))) /
             num_tasks();
  }
  // PackNet: one byte per weight naming the task that owns it (the paper's mask), over the tasks.
  if (packnet_ && num_tasks() > 0) bytes += parameter_count() / num_tasks();
  return bytes;
}

std::optional<double> SupervisedLearner::gain() const {
  if (ngm_) return ngm_->gain();
  if (config_.fixed_gain) return *config_.fixed_gain;
  return std::nullopt;
}

}  // namespace locus::bench
