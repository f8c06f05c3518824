#pragma once
// AgentConfig: everything that determines an agent's learning, read from and written to JSON with
// the same keys the command line and config files use (unknown keys are rejected, naming the
// allowed ones), so a run directory's config.json reproduces the run.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "config/reader.hpp"
#include "neuromod/network.hpp"

namespace locus::agents {

enum class Algorithm { kA2c, kPpo, kReinforce };
// How the agent's learning signal is formed.
enum class Modulation {
  kNone,                   // no neuromodulatory signal: advantages are discounted returns minus
                           // the value baseline, computed directly; no trace, no gain
  kDopamine,               // advantages and critic targets from the dopamine TD error (GAE)
  kDopamineNoradrenaline,  // as kDopamine, plus the noradrenaline gain and its change flag
};
enum class NetworkMode {
  kModulated,  // fixed random weights; per-context gains, biases and readouts learn
  kTrainable,  // an ordinary MLP: every weight learns
};
// The policy's body: a feed-forward network, or one recurrent layer (Elman with tanh, GRU or LSTM,
// PyTorch's equations) of hidden[0] units under feed-forward layers of the remaining hidden widths.
enum class PolicyType { kMlp, kRnn, kGru, kLstm };
enum class ContextPolicy {
  kFixed,     // one context, never switched by the agent
  kOnChange,  // on a noradrenaline change flag: reuse the best-matching stored context or open
              // a new one (task-free continual learning)
  kTaskId,    // select_task(id) picks the context directly (the task id is known)
};

std::string_view to_string(Algorithm value);
std::string_view to_string(Modulation value);
std::string_view to_string(NetworkMode value);
std::string_view to_string(ContextPolicy value);
std::string_view to_string(PolicyType value);
// Parse the strings above ("a2c", "ppo", "reinforce"; "none", "da", "da+na"; "modulated",
// "trainable"; "fixed", "on_change", "task_id"); throw ConfigError listing the choices.
Algorithm algorithm_from_string(std::string_view name);
Modulation modulation_from_string(std::string_view name);
NetworkMode network_mode_from_string(std::string_view name);
// "cpu" or "cuda" (the network's backend; cuda needs a CUDA build and a GPU).
neuromod::Backend device_from_string(std::string_view name);
// "float32", "bfloat16" (cpu, AVX512-BF16) or "tf32" (cuda): the arithmetic of the products.
neuromod::MatmulPrecision precision_from_string(std::string_view name);
ContextPolicy context_policy_from_string(std::string_view name);
// "mlp", "rnn", "gru" or "lstm".
PolicyType policy_type_from_string(std::string_view name);

struct AgentConfig {
  std::string env = "CartPole-v1";
  nlohmann::json env_kwargs = nlohmann::json::object();  // passed to make_vec
  Algorithm agent = Algorithm::kA2c;
  Modulation modulation = Modulation::kDopamine;
  NetworkMode network = NetworkMode::kTrainable;
  // Recurrent policies carry their state across steps and learn by backpropagation through each
  // rollout (the BPTT window is rollout_steps); PPO's minibatches are then whole env sequences
  // (minibatches <= num_envs).
  PolicyType policy = PolicyType::kMlp;
  neuromod::Backend device = neuromod::Backend::kCpu;  // where the network runs
  neuromod::MatmulPrecision precision = neuromod::MatmulPrecision::kFloat32;  // of its products
  std::vector<std::size_t> hidden = {64, 64};
  std::uint64_t seed = 0;
  std::size_t num_envs = 8;
  std::size_t rollout_steps = 16;  // steps per env per update
  std::size_t frame_stack = 1;     // observations fed to the network (memory for delay tasks)

  std::string optimizer = "adam";
  float learning_rate = 7e-4f;
  float max_grad_norm = 0.5f;  // 0: no clipping
  float gamma = 0.99f;
  float gae_lambda = 0.95f;  // REINFORCE always uses 1 (Monte Carlo returns)
  float value_coef = 0.5f;
  float entropy_coef = 0.01f;
  bool normalize_advantages = false;

  // PPO
  std::size_t ppo_epochs = 4;
  std::size_t minibatches = 4;
  float clip_epsilon = 0.2f;
  float value_clip = 0.0f;  // > 0: PPO's clipped value loss with this range

  // Gaussian policies (Box action spaces): the initial log standard deviation (learned).
  float init_log_std = -0.5f;

  // Noradrenaline (modulation da+na)
  std::string na_source = "surprise";  // "surprise" (|delta|) or "entropy" (policy entropy)
  float na_sensitivity = 0.5f;
  float na_change_threshold = 4.0f;  // z of one update's mean surprise
  float na_stats_rate = 0.05f;       // running mean/variance of the surprise: ~20 updates of memory
  std::size_t na_refractory = 50;
  ContextPolicy contexts = ContextPolicy::kFixed;
  float context_reuse_ratio = 0.5f;  // reuse a stored context whose surprise is below this share
                                     // of the current one's
  std::size_t max_contexts = 8;

  // Traces
  std::size_t trace_envs = 1;  // envs 0 .. trace_envs-1 have their per-step dopamine trace kept

  // Throws ConfigError naming the first field out of range, or if the config cannot fit in the
  // available memory even on the smallest env (check_memory(1, 1)).
  void validate() const;
  // A lower bound of the bytes an agent of this config holds on an env with `observation_dim`
  // observation values and `action_dim` actions (or action values): its network's weights and
  // activations, the rollout and the frame history (saturating, never wrapping).
  std::uint64_t memory_estimate(std::size_t observation_dim, std::size_t action_dim) const;
  // Throws ConfigError with the estimate if it exceeds the machine's available memory.
  void check_memory(std::size_t observation_dim, std::size_t action_dim) const;
  nlohmann::json to_json() const;
  // Keys as to_json writes them; missing keys keep their defaults; unknown keys throw ConfigError.
  static AgentConfig from_json(const nlohmann::json& json);
  static const std::vector<std::string>& keys();
};

// Applies the entries of `json` to `config` (the keys of AgentConfig::keys()); throws ConfigError
// for an unknown key or a value of the wrong type, naming the key.
void apply_json(AgentConfig& config, const nlohmann::json& json);
// The agent's keys read from `reader` (a run config's reader reads its own keys too, then
// finishes); config_reader() makes the reader agent and run configs share.
void read_fields(AgentConfig& config, config::Reader& reader);
config::Reader config_reader(const nlohmann::json& json, std::string_view what);

}  // namespace locus::agents
