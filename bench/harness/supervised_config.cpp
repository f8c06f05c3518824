#include "bench/harness/supervised_config.hpp"

#include <fmt/format.h>

#include "bench/harness/errors.hpp"

namespace locus::bench {

namespace data = locus::envs::data;

std::string_view network_kind_name(NetworkKind kind) {
  switch (kind) {
    case NetworkKind::kMlp:
      return "mlp";
    case NetworkKind::kModulated:
      return "modulated";
    case NetworkKind::kModulatedMlp:
      return "modulated-mlp";
  }
  throw InvalidArgumentError("invalid NetworkKind value");
}

NetworkKind network_kind_from_name(std::string_view name) {
  if (name == "mlp") return NetworkKind::kMlp;
  if (name == "modulated") return NetworkKind::kModulated;
  if (name == "modulated-mlp") return NetworkKind::kModulatedMlp;
  throw InvalidArgumentError(
      fmt::format("unknown network '{}'; networks: mlp, modulated, modulated-mlp", name));
}

namespace {

// PackNet and XdG isolate parts of the one MLP per task, so each needs the task's id at test time
// and a sequence trained on that network.
void validate_parameter_isolation(const SupervisedConfig& c) {
  c.packnet.validate();
  c.xdg.validate();
  if (!c.packnet.enabled() && !c.xdg.enabled()) return;
  const char* setting = c.packnet.enabled() ? "packnet_prune" : "xdg_keep";
  if (c.packnet.enabled() && c.xdg.enabled()) {
    throw InvalidArgumentError("packnet_prune and xdg_keep exclude each other: set one to 0");
  }
  if (c.network != NetworkKind::kMlp) {
    throw InvalidArgumentError(fmt::format(
        "{} isolates per task the trainable weights (PackNet) or hidden units (XdG) of the "
        "ordinary MLP; network '{}' is not it: use network mlp",
        setting, network_kind_name(c.network)));
  }
  if (c.separate || c.joint_offline || c.agem) {
    throw InvalidArgumentError(fmt::format(
        "{} needs separate, joint_offline and agem false: it isolates the tasks of one sequence "
        "inside one network",
        setting));
  }
  const bool task_told = c.stream.scenario == data::Scenario::kTaskIncremental ||
                         c.context_at_test == ContextAtTest::kOracle;
  if (c.xdg.enabled() && !task_told && c.context_at_test == ContextAtTest::kGiven) {
    throw InvalidArgumentError(fmt::format(
        "xdg_keep gates the hidden units by the task's id, which the '{}' scenario hides at test "
        "time; use scenario task-incremental, or set context_at_test to oracle (told the task) or "
        "batch-entropy / example-entropy (inferred)",
        envs::scenario_name(c.stream.scenario)));
  }
  if (!c.packnet.enabled()) return;
  if (!task_told || infers_context(c.context_at_test)) {
    throw InvalidArgumentError(fmt::format(
        "packnet_prune picks task j's weights by its id at test time, which scenario '{}' with "
        "context_at_test '{}' does not give; use scenario task-incremental, or context_at_test "
        "oracle",
        envs::scenario_name(c.stream.scenario), context_at_test_name(c.context_at_test)));
  }
  if (c.ngm || c.replay.memory > 0 || c.regularizers.any() || c.stream.joint) {
    throw InvalidArgumentError(
        "packnet_prune excludes ngm (its gain would rescale the frozen weights), replay_memory, "
        "joint and the regularizers: PackNet's frozen weights already keep every earlier task");
  }
}

}  // namespace

void SupervisedConfig::validate() const {
  if (batch_size < 1)
    throw InvalidArgumentError(fmt::format("batch_size {} must be >= 1", batch_size));
  if (network != NetworkKind::kModulated && hidden.empty()) {
    throw InvalidArgumentError("hidden must list at least one layer width");
  }
  for (const auto width : hidden) {
    if (width == 0) throw InvalidArgumentError("hidden layer widths must be >= 1");
  }
  if (network != NetworkKind::kMlp && stream.scenario != data::Scenario::kTaskIncremental &&
      context_at_test == ContextAtTest::kGiven) {
    throw InvalidArgumentError(fmt::format(
        "network '{}' picks one context per task by its id, which the '{}' scenario hides at test "
        "time; set context_at_test to example-entropy or batch-entropy (inferred), or oracle",
        network_kind_name(network), envs::scenario_name(stream.scenario)));
  }
  if (network == NetworkKind::kMlp && context_at_test != ContextAtTest::kGiven && !xdg.enabled() &&
      !packnet.enabled()) {
    throw InvalidArgumentError(fmt::format(
        "context_at_test '{}' picks among one context per task, which network mlp does not have: "
        "use network modulated or modulated-mlp",
        context_at_test_name(context_at_test)));
  }
  if (ngm && fixed_gain) {
    throw InvalidArgumentError(
        "ngm and fixed_gain exclude each other (fixed_gain is NGM's control)");
  }
  if (fixed_gain && !(*fixed_gain > 0.0f)) {
    throw InvalidArgumentError(fmt::format("fixed_gain {} must be > 0", *fixed_gain));
  }
  if (separate && (network != NetworkKind::kMlp || stream.joint ||
                   stream.scenario != data::Scenario::kTaskIncremental)) {
    throw InvalidArgumentError(
        "separate (a fresh network per task, the single-task reference) needs network mlp, "
        "scenario task-incremental and joint false");
  }
  if (replay.memory < 0 || replay.batch < 0) {
    throw InvalidArgumentError(fmt::format("replay_memory {} and replay_batch {} must be >= 0",
                                           replay.memory, replay.batch));
  }
  if (!(replay.der_alpha >= 0.0) || !(replay.der_beta >= 0.0)) {
    throw InvalidArgumentError(fmt::format("der_alpha {} and der_beta {} must be >= 0",
                                           replay.der_alpha, replay.der_beta));
  }
  if (replay.dark() && replay.memory == 0) {
    throw InvalidArgumentError(
        "der_alpha and der_beta weight dark experience replay, which needs replay_memory > 0");
  }
  regularizers.validate();
  if (regularizers.any() && (network != NetworkKind::kMlp || separate || stream.joint)) {
    throw InvalidArgumentError(
        "ewc_lambda, mas_lambda, si_lambda and lwf_alpha protect the trainable weights a sequence "
        "of tasks shares: they need network mlp, separate false and joint false");
  }
  if (agem && (replay.memory == 0 || replay.dark())) {
    throw InvalidArgumentError(
        "agem projects the gradient against the replay memory's: it needs replay_memory > 0, and "
        "der_alpha and der_beta 0");
  }
  if (agem && network != NetworkKind::kMlp) {
    throw InvalidArgumentError("agem projects the gradient of the shared weights: use network mlp");
  }
  if (joint_offline && (!stream.joint || separate || replay.memory > 0 || regularizers.any())) {
    throw InvalidArgumentError(
        "joint_offline (every task's data at once, the upper bound) trains on the stream's joint "
        "mode and excludes separate, replay_memory and the regularizers");
  }
  if (replay.memory > 0 && (stream.joint || separate)) {
    throw InvalidArgumentError(
        "replay_memory needs joint false and separate false: joint training already replays "
        "every earlier example, and a fresh network per task has nothing to remember");
  }
  validate_parameter_isolation(*this);
  if (context_at_train == ContextAtTrain::kOnChange) {
    if (network == NetworkKind::kMlp || stream.joint || replay.memory > 0) {
      throw InvalidArgumentError(
          "context_at_train on-change opens and reuses the contexts of network modulated or "
          "modulated-mlp from the training loss: use one of them, with joint false and "
          "replay_memory 0 (their rows would mix tasks in one context)");
    }
    discovery.validate();
  }
  optimizer.validate();
  if (ngm) ngm_config.validate();
}

}  // namespace locus::bench
