#pragma once
// What a SupervisedLearner (supervised.hpp) trains and how: the stream, the network, the
// optimizer and the continual-learning methods, each checked by validate() with an error that
// names the setting and the fix (run_settings.cpp fills it from a sweep's settings).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/harness/methods/context_discovery.hpp"
#include "bench/harness/methods/context_inference.hpp"
#include "bench/harness/methods/packnet.hpp"
#include "bench/harness/methods/regularizers.hpp"
#include "bench/harness/methods/task_masks.hpp"
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
  // Minibatches drawn uniformly with replacement from the task's training examples (as papers'
  // scripts do) instead of epochs of shuffled examples.
  bool sample_with_replacement = false;
  // The trainable weight layers' initialization, normal(0, std) per layer (the hidden layers',
  // then the output's), as papers state it (NGM: 0.01 hidden, 0.05 output); empty: the network's
  // own (He initialization for the MLP).
  std::vector<double> init_std;
  // How a network with one context per task picks the context at test time, and whether it is
  // told the task boundaries in training or finds them itself (context_discovery.hpp).
  ContextAtTest context_at_test = ContextAtTest::kGiven;
  ContextAtTrain context_at_train = ContextAtTrain::kGiven;
  ContextDiscoveryConfig discovery;
  // Parameter isolation on the MLP, each off at 0: PackNet (methods/packnet.hpp) and XdG's
  // per-task gating of the hidden units (methods/task_masks.hpp; one context per task).
  PacknetConfig packnet;
  XdgConfig xdg;
  void validate() const;
};

}  // namespace locus::bench
