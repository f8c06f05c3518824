#include "bench/harness/run_settings.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "bench/harness/errors.hpp"
#include "bench/harness/methods/method_presets.hpp"
#include "bench/harness/setting_reader.hpp"
#include "envs/errors.hpp"
#include "neuromod/errors.hpp"
#include "neuromod/kernels.hpp"
#include "neuromod/spec.hpp"
#include "util/memory.hpp"

namespace locus::bench {

namespace {

using nlohmann::json;
namespace data = locus::envs::data;
namespace nm = locus::neuromod;

// Limits on sizes no real sweep reaches, so that a mistyped value (1e12) is refused before the
// sweep starts instead of allocating or looping for days. Memory is checked separately
// (check_run_memory).
constexpr std::int64_t kMaxTasks = std::int64_t{1} << 16;
constexpr std::int64_t kMaxCount = std::int64_t{1} << 31;  // images per task, window lengths
constexpr std::int64_t kMaxContexts = 4096;  // each holds a copy of the modulated parameters
constexpr std::int64_t kMaxBatch = std::int64_t{1} << 20;
constexpr std::int64_t kMaxIterations = std::int64_t{1} << 30;
// Debian's Fashion-MNIST images: the input width a supervised run's estimate assumes unless
// data_dir names other data (then 1, a lower bound).
constexpr std::uint64_t kFashionMnistPixels = 784;
constexpr std::uint64_t kFashionMnistClasses = 10;

struct SettingInfo {
  const char* key;
  json default_value;
  const char* help;
};

const std::vector<SettingInfo>& setting_table() {
  static const std::vector<SettingInfo> table = {
      {"method", "naive",
       "a continual-learning method; its settings default to its paper's or Avalanche's values "
       "(listed below)"},
      {"stream", "split", "split | permuted | rotated | full (Fashion-MNIST streams)"},
      {"scenario", "task-incremental", "task-incremental | domain-incremental | class-incremental"},
      {"joint", false, "incremental joint training: replay every earlier task's data"},
      {"num_tasks", 0, "tasks (0: the stream's default)"},
      {"classes_per_task", 2, "split streams"},
      {"angles", json::array({0.0, 80.0, 160.0}), "rotated streams, degrees"},
      {"train_per_task", 0, "training images per task (0: all)"},
      {"eval_per_task", 1000, "held-out evaluation images per task (0: all)"},
      {"normalization", "unit",
       "unit (pixel / 255) | standardize (by the training pixels' mean and std) | fixed"},
      {"normalization_mean", 0.0, "normalization fixed: the mean subtracted from pixel / 255"},
      {"normalization_std", 1.0, "normalization fixed: the std it is divided by"},
      {"sampling", "epochs", "epochs (shuffled, without replacement) | with-replacement"},
      {"init_std", json::array(),
       "normal(0, std) weights per trainable layer, hidden then output (empty: He init)"},
      {"data_dir", "", "MNIST-format data directory (empty: Debian's Fashion-MNIST)"},
      {"iterations_per_task", 100, "training iterations (optimizer steps) per task"},
      {"eval_every", 10, "evaluate every task seen so far every this many iterations"},
      {"eval_tasks", "seen",
       "seen | first: the tasks evaluated every eval_every iterations (every task at the ends of "
       "tasks either way)"},
      {"batch_size", 64, "minibatch size"},
      {"network", "mlp", "mlp | modulated | modulated-mlp"},
      {"hidden", json::array({400, 400}), "hidden widths (mlp, modulated-mlp)"},
      {"device", "cpu", "cpu | cuda: where the network runs (cuda needs a GPU build)"},
      {"precision", "float32",
       "float32 | bfloat16 | tf32: the products' arithmetic (bfloat16: CPUs with AVX512-BF16, "
       "fixed weights only; tf32: cuda)"},
      {"context_at_test", "given",
       "given | oracle | batch-entropy | example-entropy: how a network with a context per task "
       "picks it at test time (inferred where the scenario hides the task)"},
      {"context_at_train", "given",
       "given | on-change: a modulated network is told the task boundaries in training, or finds "
       "them from its loss's surprise (opening or reusing contexts)"},
      {"na_change_threshold", 6.0,
       "on-change: the z-score of a minibatch's loss that flags a task"},
      {"na_refractory", 50, "on-change: minibatches after a flag before another can be raised"},
      {"na_stats_rate", 0.05, "on-change: rate of the running loss statistics the z-score uses"},
      {"context_reuse_ratio", 0.5,
       "on-change: reuse the stored context whose loss is below this share of the current one's"},
      {"max_contexts", 16, "on-change: the most contexts opened (then the best one is reused)"},
      {"separate", false, "a fresh MLP per task: the single-task reference (task-incremental)"},
      {"replay_memory", 0, "experience replay: examples kept from the stream (0: no replay)"},
      {"replay_batch", 0, "replayed examples beside each minibatch (0: batch_size of them)"},
      {"replay_balanced", false, "class-balanced replay memory instead of a reservoir"},
      {"der_alpha", 0.0, "dark experience replay: weight of matching the stored logits (DER)"},
      {"der_beta", 0.0, "DER++: weight of the replayed examples' labels"},
      {"ewc_lambda", 0.0, "elastic weight consolidation: the penalty's weight (0: off)"},
      {"ewc_online", false, "online EWC: one running Fisher, decayed by ewc_gamma"},
      {"ewc_gamma", 1.0, "online EWC: decay of the earlier tasks' Fisher"},
      {"ewc_batches", 0, "minibatches of a finished task for its Fisher (0: one epoch)"},
      {"mas_lambda", 0.0, "memory aware synapses: the penalty's weight (0: off)"},
      {"mas_alpha", 0.5, "MAS: the earlier tasks' share of the running importance"},
      {"mas_batches", 0, "minibatches of a finished task for MAS's importance (0: one epoch)"},
      {"si_lambda", 0.0, "synaptic intelligence: the penalty's weight c (0: off)"},
      {"si_xi", 0.001, "SI: damping xi of the importance of weights that barely moved"},
      {"lwf_alpha", 0.0, "learning without forgetting: the distillation's weight (0: off)"},
      {"lwf_temperature", 2.0, "LwF: the distillation's temperature"},
      {"agem", false, "A-GEM: project the gradient against the replay memory's (replay_memory)"},
      {"packnet_prune", 0.0,
       "PackNet: fraction of a task's free weights pruned for later tasks, the rest frozen as its "
       "own (0: off; network mlp, task id at test)"},
      {"packnet_retrain", 0,
       "PackNet: the last iterations of each task, after the prune, retrain the kept weights"},
      {"xdg_keep", 0.0,
       "XdG: fraction of each hidden layer's units a task's fixed random mask keeps (0: off; "
       "network mlp, one context per task)"},
      {"joint_offline", false, "every task's data from the first iteration: the upper bound"},
      {"optimizer", "sgd", "sgd | momentum | adam | rmsprop"},
      {"lr", 0.01, "learning rate"},
      {"momentum", 0.9, "momentum SGD"},
      {"beta1", 0.9, "Adam"},
      {"beta2", 0.999, "Adam"},
      {"weight_decay", 0.0, "L2 weight decay"},
      {"ngm", false, "NGM gain (arXiv 2507.14056)"},
      {"ngm_eta", 0.4, "NGM entropy coefficient eta"},
      {"ngm_gamma", 0.9, "NGM decay gamma"},
      {"ngm_g0", 1.0, "NGM resting gain g0"},
      {"ngm_placement", "every-layer",
       "where the gain applies: every-layer | output-only | selected"},
      {"ngm_layers", json::array(), "weight-gain slots for ngm_placement: selected"},
      {"ngm_entropy", "nats", "nats | bits"},
      {"fixed_gain", 0.0, "control: a constant gain on the NGM placement (0: none)"},
      {"fixed_gain_from", "", "control: fix the gain at this method's mean gain (same seed)"},
      {"matched_lr_from", "",
       "control: lr x (this method's mean gain)^matched_lr_power (same seed and grid point)"},
      {"matched_lr_power", 1.0, "exponent of the mean gain in matched_lr_from"},
      {"gap_epsilon", 0.02, "recovery band of the gap metrics"},
      {"gap_window", 5, "evaluations in the gap baseline and smoothing"},
  };
  return table;
}

const SettingInfo* find_setting(const std::string& key) {
  for (const auto& info : setting_table()) {
    if (key == info.key) return &info;
  }
  return nullptr;
}

std::vector<std::string> setting_names() {
  std::vector<std::string> out;
  for (const auto& info : setting_table()) out.emplace_back(info.key);
  return out;
}

const json& value_of(const json& settings, const char* key) {
  const auto it = settings.find(key);
  if (it != settings.end()) return *it;
  return find_setting(key)->default_value;
}

template <class T>
T setting(const json& settings, const char* key) {
  return setting_converter().convert<T>(value_of(settings, key), key);
}

double get_number(const json& settings, const char* key) {
  return setting<double>(settings, key);
}

float get_float(const json& settings, const char* key) {
  return setting<float>(settings, key);
}

std::int64_t get_int(const json& settings, const char* key, std::int64_t min, std::int64_t max) {
  return setting_converter().in_range(key, setting<std::int64_t>(settings, key), min, max);
}

bool get_bool(const json& settings, const char* key) {
  return setting<bool>(settings, key);
}

std::string get_string(const json& settings, const char* key) {
  return setting<std::string>(settings, key);
}

// A list of finite numbers, or of whole numbers that are list sizes here (widths, layer indices):
// at most neuromod's unit limit.
template <class T>
std::vector<T> get_list(const json& settings, const char* key) {
  const json& v = value_of(settings, key);
  if (!v.is_array()) {
    throw InvalidArgumentError(fmt::format("setting '{}' must be a list, got {}", key, v.dump()));
  }
  std::vector<T> out;
  for (const auto& item : v) {
    if constexpr (std::is_integral_v<T>) {
      out.push_back(setting_converter().in_range(key, setting_converter().convert<T>(item, key),
                                                 T{0}, static_cast<T>(nm::kMaxUnits)));
    } else {
      out.push_back(setting_converter().convert<T>(item, key));
    }
  }
  return out;
}

// ---- supervised configuration -----------------------------------------------------------------

void read_stream(const json& settings, std::uint64_t seed, SupervisedConfig& c) {
  try {
    c.stream.kind = data::stream_kind_from_name(get_string(settings, "stream"));
    c.stream.scenario = envs::scenario_from_name(get_string(settings, "scenario"));
    c.stream.normalization = data::normalization_from_name(get_string(settings, "normalization"));
  } catch (const envs::Error& e) {
    throw InvalidArgumentError(e.what());
  }
  c.stream.joint = get_bool(settings, "joint");
  c.stream.seed = seed;
  c.stream.num_tasks = get_int(settings, "num_tasks", 0, kMaxTasks);
  c.stream.classes_per_task = get_int(settings, "classes_per_task", 0, kMaxCount);
  c.stream.angles = get_list<double>(settings, "angles");
  c.stream.train_per_task = get_int(settings, "train_per_task", 0, kMaxCount);
  c.stream.normalization_mean = get_float(settings, "normalization_mean");
  c.stream.normalization_std = get_float(settings, "normalization_std");
  c.stream.eval_per_task = get_int(settings, "eval_per_task", 0, kMaxCount);
  const std::string data_dir = get_string(settings, "data_dir");
  if (!data_dir.empty()) c.stream.data_dir = data_dir;
}

// Checked here so that a sweep fails before its first run, not halfway.
void read_device(const json& settings, SupervisedConfig& c) {
  try {
    const std::string device = get_string(settings, "device");
    if (device != "cpu" && device != "cuda") {
      throw InvalidArgumentError(
          fmt::format("setting 'device' is '{}'; allowed: cpu, cuda", device));
    }
    c.device = nm::backend_from_string(device);
    const std::string precision = get_string(settings, "precision");
    try {
      c.precision = nm::matmul_precision_from_string(precision);
    } catch (const nm::Error& e) {
      throw InvalidArgumentError(fmt::format("setting 'precision': {}", e.what()));
    }
    const bool on_cuda = c.device == nm::Backend::kCuda;
    if ((c.precision == nm::MatmulPrecision::kTf32 && !on_cuda) ||
        (c.precision == nm::MatmulPrecision::kBfloat16 && on_cuda)) {
      throw InvalidArgumentError(fmt::format(
          "setting 'precision' is '{}' with device '{}': tf32 needs device cuda, bfloat16 device "
          "cpu",
          precision, device));
    }
    if (c.precision == nm::MatmulPrecision::kBfloat16 && !nm::cpu_supports_bf16_products()) {
      throw InvalidArgumentError(
          fmt::format("setting 'precision' is 'bfloat16', but {}; use float32",
                      nm::bf16_products_unavailable_reason()));
    }
  } catch (const nm::Error& e) {
    throw InvalidArgumentError(e.what());
  }
}

void read_optimizer(const json& settings, SupervisedConfig& c) {
  try {
    c.optimizer.kind = nm::optimizer_kind_from_string(get_string(settings, "optimizer"));
  } catch (const nm::Error& e) {
    throw InvalidArgumentError(e.what());
  }
  c.optimizer.learning_rate = get_float(settings, "lr");
  c.optimizer.momentum = get_float(settings, "momentum");
  c.optimizer.beta1 = get_float(settings, "beta1");
  c.optimizer.beta2 = get_float(settings, "beta2");
  c.optimizer.weight_decay = get_float(settings, "weight_decay");
}

void read_gain(const json& settings, SupervisedConfig& c) {
  c.ngm = get_bool(settings, "ngm");
  c.ngm_config.eta = get_float(settings, "ngm_eta");
  c.ngm_config.gamma = get_float(settings, "ngm_gamma");
  c.ngm_config.g0 = get_float(settings, "ngm_g0");
  c.ngm_config.record_trace = false;
  const std::string placement = get_string(settings, "ngm_placement");
  if (placement == "every-layer") {
    c.ngm_config.target.placement = nm::GainPlacement::kEveryLayer;
  } else if (placement == "output-only") {
    c.ngm_config.target.placement = nm::GainPlacement::kOutputOnly;
  } else if (placement == "selected") {
    c.ngm_config.target.placement = nm::GainPlacement::kSelectedLayers;
    c.ngm_config.target.layers = get_list<std::size_t>(settings, "ngm_layers");
  } else {
    throw InvalidArgumentError(fmt::format(
        "setting 'ngm_placement' is '{}'; allowed: every-layer, output-only, selected", placement));
  }
  const std::string unit = get_string(settings, "ngm_entropy");
  if (unit != "nats" && unit != "bits") {
    throw InvalidArgumentError(
        fmt::format("setting 'ngm_entropy' is '{}'; allowed: nats, bits", unit));
  }
  c.ngm_config.entropy_unit = unit == "bits" ? nm::EntropyUnit::kBits : nm::EntropyUnit::kNats;
  const double fixed_gain = get_float(settings, "fixed_gain");
  if (fixed_gain < 0.0) {
    throw InvalidArgumentError(fmt::format("setting 'fixed_gain' {} must be >= 0", fixed_gain));
  }
  if (fixed_gain > 0.0) c.fixed_gain = static_cast<float>(fixed_gain);
}

void read_regularizers(const json& settings, RegularizerConfig& r) {
  r.ewc.lambda = get_number(settings, "ewc_lambda");
  r.ewc.online = get_bool(settings, "ewc_online");
  r.ewc.gamma = get_number(settings, "ewc_gamma");
  r.ewc_batches = get_int(settings, "ewc_batches", 0, kMaxCount);
  r.mas.lambda = get_number(settings, "mas_lambda");
  r.mas.alpha = get_number(settings, "mas_alpha");
  r.mas_batches = get_int(settings, "mas_batches", 0, kMaxCount);
  r.si.c = get_number(settings, "si_lambda");
  r.si.xi = get_number(settings, "si_xi");
  r.lwf.alpha = get_number(settings, "lwf_alpha");
  r.lwf.temperature = get_number(settings, "lwf_temperature");
}

void read_parameter_isolation(const json& settings, SupervisedConfig& c) {
  c.packnet.prune_fraction = get_number(settings, "packnet_prune");
  c.packnet.retrain_iterations = get_int(settings, "packnet_retrain", 0, kMaxIterations);
  // PackNet prunes inside each task, packnet_retrain iterations before its end.
  c.packnet.task_iterations = get_int(settings, "iterations_per_task", 1, kMaxIterations);
  c.xdg.keep = get_number(settings, "xdg_keep");
}

void read_context_discovery(const json& settings, SupervisedConfig& c) {
  c.context_at_train = context_at_train_from_name(get_string(settings, "context_at_train"));
  c.discovery.change_threshold = static_cast<float>(get_number(settings, "na_change_threshold"));
  c.discovery.refractory =
      static_cast<std::size_t>(get_int(settings, "na_refractory", 0, kMaxIterations));
  c.discovery.stats_rate = static_cast<float>(get_number(settings, "na_stats_rate"));
  c.discovery.reuse_ratio = static_cast<float>(get_number(settings, "context_reuse_ratio"));
  c.discovery.max_contexts =
      static_cast<std::size_t>(get_int(settings, "max_contexts", 1, kMaxContexts));
}

GainControl read_gain_control(const json& settings) {
  GainControl control;
  const std::string fixed_from = get_string(settings, "fixed_gain_from");
  const std::string lr_from = get_string(settings, "matched_lr_from");
  if (!fixed_from.empty()) {
    control.kind = GainControl::Kind::kFixedGain;
    control.source = fixed_from;
  } else if (!lr_from.empty()) {
    control.kind = GainControl::Kind::kMatchedLr;
    control.source = lr_from;
    control.matched_lr_power = get_number(settings, "matched_lr_power");
  }
  return control;
}

}  // namespace

// ---- public ----------------------------------------------------------------------------------

void check_setting_key(const std::string& key, const std::string& where) {
  if (find_setting(key) == nullptr) {
    const std::string guess = config::closest_name(key, setting_names());
    throw InvalidArgumentError(fmt::format("unknown setting '{}' in {}{}; settings: {}", key, where,
                                           guess.empty() ? "" : " (did you mean '" + guess + "'?)",
                                           fmt::join(setting_names(), ", ")));
  }
}

std::string run_settings_help() {
  std::string out;
  for (const auto& info : setting_table()) {
    out += fmt::format("  {:<20} {:<18} {}\n", info.key, info.default_value.dump(), info.help);
  }
  return out;
}

SupervisedConfig supervised_config(const json& run_settings, std::uint64_t seed) {
  if (!run_settings.is_object()) throw InvalidArgumentError("run settings must be a mapping");
  for (const auto& [key, v] : run_settings.items()) check_setting_key(key, "run settings");
  const json settings = with_method_defaults(run_settings);
  SupervisedConfig c;
  read_stream(settings, seed, c);
  c.network = network_kind_from_name(get_string(settings, "network"));
  c.context_at_test = context_at_test_from_name(get_string(settings, "context_at_test"));
  const std::string sampling = get_string(settings, "sampling");
  if (sampling != "epochs" && sampling != "with-replacement") {
    throw InvalidArgumentError(
        fmt::format("setting 'sampling' is '{}'; allowed: epochs, with-replacement", sampling));
  }
  c.sample_with_replacement = sampling == "with-replacement";
  c.init_std = get_list<double>(settings, "init_std");
  for (const double std : c.init_std) {
    if (!(std > 0.0) || !std::isfinite(std)) {
      throw InvalidArgumentError(
          fmt::format("setting 'init_std' lists {}; each must be finite and > 0", std));
    }
  }
  c.hidden = get_list<std::size_t>(settings, "hidden");
  c.separate = get_bool(settings, "separate");
  read_device(settings, c);
  c.batch_size = get_int(settings, "batch_size", 1, kMaxBatch);
  c.seed = seed;
  c.replay.memory = get_int(settings, "replay_memory", 0, kMaxCount);
  c.replay.batch = get_int(settings, "replay_batch", 0, kMaxBatch);
  c.replay.class_balanced = get_bool(settings, "replay_balanced");
  c.replay.der_alpha = get_number(settings, "der_alpha");
  c.replay.der_beta = get_number(settings, "der_beta");
  read_regularizers(settings, c.regularizers);
  read_parameter_isolation(settings, c);
  read_context_discovery(settings, c);
  c.agem = get_bool(settings, "agem");
  c.joint_offline = get_bool(settings, "joint_offline");
  if (c.joint_offline) c.stream.joint = true;
  read_optimizer(settings, c);
  read_gain(settings, c);
  try {
    c.validate();
  } catch (const nm::Error& e) {
    throw InvalidArgumentError(e.what());
  }
  return c;
}

Schedule schedule_from_settings(const json& settings) {
  Schedule s;
  s.iterations_per_task = get_int(settings, "iterations_per_task", 1, kMaxIterations);
  s.eval_every = get_int(settings, "eval_every", 1, kMaxIterations);
  const std::string eval_tasks = get_string(settings, "eval_tasks");
  if (eval_tasks != "seen" && eval_tasks != "first") {
    throw InvalidArgumentError(
        fmt::format("setting 'eval_tasks' is '{}'; allowed: seen, first", eval_tasks));
  }
  s.only_first_task = eval_tasks == "first";
  s.validate();
  if (get_number(settings, "gap_epsilon") < 0.0) {
    throw InvalidArgumentError("gap_epsilon must be >= 0");
  }
  (void)get_int(settings, "gap_window", 1, kMaxCount);
  return s;
}

std::int64_t planned_iterations(const RunSettings& run) {
  std::int64_t tasks = 1;
  if (const auto* supervised = std::get_if<SupervisedConfig>(&run.learner)) {
    tasks = envs::data::planned_num_tasks(supervised->stream);
  } else if (const auto* rl = std::get_if<RlConfig>(&run.learner)) {
    tasks = static_cast<std::int64_t>(rl->scenario.tasks.size());
  } else {
    tasks = static_cast<std::int64_t>(std::get<CognitiveConfig>(run.learner).scenario.tasks.size());
  }
  return std::max<std::int64_t>(
      1, run.schedule.iterations_per_task * std::max<std::int64_t>(1, tasks));
}

RunSettings parse_run_settings(const json& scenario, const json& settings, std::uint64_t seed) {
  RunSettings run;
  if (scenario.is_null()) {
    run.learner = supervised_config(settings, seed);
    run.control = read_gain_control(settings);
  } else if (scenario["kind"] == "cognitive") {
    run.learner = cognitive_config(scenario, settings, seed);
  } else {
    run.learner = rl_config(scenario, settings, seed);
  }
  run.schedule = schedule_from_settings(settings);
  run.gap_epsilon = get_number(settings, "gap_epsilon");
  run.gap_window = static_cast<std::size_t>(get_int(settings, "gap_window", 1, kMaxCount));
  return run;
}

std::string gain_source(const std::string& method, const json& settings,
                        const std::function<std::optional<json>(const std::string&)>& settings_of) {
  const std::string fixed_from = get_string(settings, "fixed_gain_from");
  const std::string lr_from = get_string(settings, "matched_lr_from");
  if (!fixed_from.empty() && !lr_from.empty()) {
    throw InvalidArgumentError(
        fmt::format("method '{}': fixed_gain_from and matched_lr_from exclude each other", method));
  }
  std::string source = fixed_from.empty() ? lr_from : fixed_from;
  if (source.empty()) return source;
  const char* via = fixed_from.empty() ? "matched_lr_from" : "fixed_gain_from";
  const std::optional<json> dependency = settings_of(source);
  if (!dependency) {
    throw InvalidArgumentError(fmt::format(
        "method '{}': {} names '{}', which is not a method of this sweep", method, via, source));
  }
  if (!get_string(*dependency, "fixed_gain_from").empty() ||
      !get_string(*dependency, "matched_lr_from").empty()) {
    throw InvalidArgumentError(
        fmt::format("method '{}': {} '{}' names a method that is a control itself "
                    "(fixed_gain_from or matched_lr_from)",
                    method, via, source));
  }
  if (get_bool(settings, "ngm") || get_number(settings, "fixed_gain") != 0.0) {
    throw InvalidArgumentError(
        fmt::format("method '{}': {} excludes ngm: true and fixed_gain", method, via));
  }
  if (!std::isfinite(get_number(settings, "matched_lr_power"))) {
    throw InvalidArgumentError(fmt::format("method '{}': matched_lr_power must be finite", method));
  }
  return source;
}

std::uint64_t supervised_memory_estimate(const SupervisedConfig& config, const Schedule& schedule) {
  using util::saturating_add, util::saturating_mul;
  const std::uint64_t inputs = config.stream.data_dir.empty() ? kFashionMnistPixels : 1;
  const std::uint64_t tasks = std::max<std::int64_t>(1, config.stream.num_tasks);
  std::uint64_t bytes = 0;
  if (config.network != NetworkKind::kModulated) {  // the modulated preset ignores `hidden`
    nm::NetworkSpec spec;
    spec.input_dim = inputs;
    for (const std::size_t width : config.hidden) {
      nm::LayerSpec layer;
      layer.units = width;
      layer.trainable_weights = config.network == NetworkKind::kMlp;
      spec.layers.push_back(layer);
    }
    nm::HeadSpec head;
    head.units = kFashionMnistClasses;
    head.weights = nm::ReadoutWeights::kTrainableShared;
    spec.heads.push_back(head);
    bytes = saturating_add(spec.weight_bytes(),
                           spec.activation_bytes(static_cast<std::uint64_t>(config.batch_size)));
  }
  // The continual record: every task's accuracy at every evaluation, plus R and b.
  const std::uint64_t evals = saturating_mul(
      tasks, static_cast<std::uint64_t>(schedule.iterations_per_task / schedule.eval_every + 2));
  bytes = saturating_add(bytes, saturating_mul(evals, tasks + 4, sizeof(double)));
  return saturating_add(bytes, saturating_mul(tasks, tasks, sizeof(double)));
}

void check_run_memory(const std::string& id, const SupervisedConfig& config,
                      const Schedule& schedule) {
  util::require_memory<InvalidArgumentError>(
      supervised_memory_estimate(config, schedule), fmt::format("run '{}'", id),
      "lower hidden, batch_size, num_tasks or iterations_per_task / eval_every");
}

}  // namespace locus::bench
