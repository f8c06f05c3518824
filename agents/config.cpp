#include "agents/config.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <utility>

#include "agents/errors.hpp"
#include "config/enum_names.hpp"
#include "config/reader.hpp"
#include "envs/vector_env.hpp"
#include "neuromod/spec.hpp"
#include "util/memory.hpp"

namespace locus::agents {
namespace {

constexpr config::EnumNames<Algorithm, 3> kAlgorithms{
    {{{Algorithm::kA2c, "a2c"}, {Algorithm::kPpo, "ppo"}, {Algorithm::kReinforce, "reinforce"}}}};
constexpr config::EnumNames<Modulation, 3> kModulations{
    {{{Modulation::kNone, "none"},
      {Modulation::kDopamine, "da"},
      {Modulation::kDopamineNoradrenaline, "da+na"}}}};
constexpr config::EnumNames<NetworkMode, 2> kNetworkModes{
    {{{NetworkMode::kModulated, "modulated"}, {NetworkMode::kTrainable, "trainable"}}}};
// Where the agent's network runs (the reference backend is for tests, not offered here).
constexpr config::EnumNames<neuromod::Backend, 2> kDevices{
    {{{neuromod::Backend::kCpu, "cpu"}, {neuromod::Backend::kCuda, "cuda"}}}};
constexpr config::EnumNames<neuromod::MatmulPrecision, 3> kPrecisions{
    {{{neuromod::MatmulPrecision::kFloat32, "float32"},
      {neuromod::MatmulPrecision::kBfloat16, "bfloat16"},
      {neuromod::MatmulPrecision::kTf32, "tf32"}}}};
constexpr config::EnumNames<PolicyType, 4> kPolicyTypes{{{{PolicyType::kMlp, "mlp"},
                                                          {PolicyType::kRnn, "rnn"},
                                                          {PolicyType::kGru, "gru"},
                                                          {PolicyType::kLstm, "lstm"}}}};
constexpr config::EnumNames<ContextPolicy, 3> kContextPolicies{
    {{{ContextPolicy::kFixed, "fixed"},
      {ContextPolicy::kOnChange, "on_change"},
      {ContextPolicy::kTaskId, "task_id"}}}};

// One JSON key of AgentConfig: how to read it into a config (through the config reader, which
// checks its type and range) and write it out.
struct Field {
  std::function<void(AgentConfig&, const nlohmann::json&, const config::Reader&)> read;
  std::function<nlohmann::json(const AgentConfig&)> write;
};

#define LOCUS_FIELD(key, member, type)                                            \
  {                                                                               \
    key, Field {                                                                  \
      [](AgentConfig& c, const nlohmann::json& v, const config::Reader& reader) { \
        c.member = reader.convert<type>(v, key);                                  \
      },                                                                          \
          [](const AgentConfig& c) { return nlohmann::json(c.member); }           \
    }                                                                             \
  }

#define LOCUS_ENUM_FIELD(key, member, parse, table)                                                \
  {                                                                                                \
    key, Field {                                                                                   \
      [](AgentConfig& c, const nlohmann::json& v, const config::Reader& reader) {                  \
        c.member = parse(reader.convert<std::string>(v, key));                                     \
      },                                                                                           \
          [](const AgentConfig& c) { return nlohmann::json(std::string((table).name(c.member))); } \
    }                                                                                              \
  }

const std::vector<std::pair<std::string, Field>>& fields() {
  static const std::vector<std::pair<std::string, Field>> table = {
      LOCUS_FIELD("env", env, std::string),
      {"env_kwargs", Field{[](AgentConfig& c, const nlohmann::json& v, const config::Reader&) {
                             if (!v.is_object()) {
                               throw ConfigError(fmt::format(
                                   "config key 'env_kwargs' must be an object, got {}", v.dump()));
                             }
                             c.env_kwargs = v;
                           },
                           [](const AgentConfig& c) { return c.env_kwargs; }}},
      LOCUS_ENUM_FIELD("agent", agent, algorithm_from_string, kAlgorithms),
      LOCUS_ENUM_FIELD("modulation", modulation, modulation_from_string, kModulations),
      LOCUS_ENUM_FIELD("network", network, network_mode_from_string, kNetworkModes),
      LOCUS_ENUM_FIELD("policy", policy, policy_type_from_string, kPolicyTypes),
      LOCUS_ENUM_FIELD("device", device, device_from_string, kDevices),
      LOCUS_ENUM_FIELD("precision", precision, precision_from_string, kPrecisions),
      {"hidden", Field{[](AgentConfig& c, const nlohmann::json& v, const config::Reader& reader) {
                         if (!v.is_array()) {
                           throw ConfigError(fmt::format(
                               "config key 'hidden' must be a list of layer widths, got {}",
                               v.dump()));
                         }
                         c.hidden.clear();
                         for (const auto& width : v) {
                           c.hidden.push_back(reader.convert<std::size_t>(width, "hidden"));
                         }
                       },
                       [](const AgentConfig& c) { return nlohmann::json(c.hidden); }}},
      LOCUS_FIELD("seed", seed, std::uint64_t),
      LOCUS_FIELD("num_envs", num_envs, std::size_t),
      LOCUS_FIELD("rollout_steps", rollout_steps, std::size_t),
      LOCUS_FIELD("frame_stack", frame_stack, std::size_t),
      LOCUS_FIELD("optimizer", optimizer, std::string),
      LOCUS_FIELD("learning_rate", learning_rate, float),
      LOCUS_FIELD("max_grad_norm", max_grad_norm, float),
      LOCUS_FIELD("gamma", gamma, float),
      LOCUS_FIELD("gae_lambda", gae_lambda, float),
      LOCUS_FIELD("value_coef", value_coef, float),
      LOCUS_FIELD("entropy_coef", entropy_coef, float),
      LOCUS_FIELD("normalize_advantages", normalize_advantages, bool),
      LOCUS_FIELD("ppo_epochs", ppo_epochs, std::size_t),
      LOCUS_FIELD("minibatches", minibatches, std::size_t),
      LOCUS_FIELD("clip_epsilon", clip_epsilon, float),
      LOCUS_FIELD("value_clip", value_clip, float),
      LOCUS_FIELD("init_log_std", init_log_std, float),
      LOCUS_FIELD("na_source", na_source, std::string),
      LOCUS_FIELD("na_sensitivity", na_sensitivity, float),
      LOCUS_FIELD("na_change_threshold", na_change_threshold, float),
      LOCUS_FIELD("na_stats_rate", na_stats_rate, float),
      LOCUS_FIELD("na_refractory", na_refractory, std::size_t),
      LOCUS_ENUM_FIELD("contexts", contexts, context_policy_from_string, kContextPolicies),
      LOCUS_FIELD("context_reuse_ratio", context_reuse_ratio, float),
      LOCUS_FIELD("max_contexts", max_contexts, std::size_t),
      LOCUS_FIELD("trace_envs", trace_envs, std::size_t),
  };
  return table;
}

#undef LOCUS_FIELD
#undef LOCUS_ENUM_FIELD

void require(bool ok, std::string_view key, std::string_view rule, const std::string& got) {
  if (!ok) throw ConfigError(fmt::format("config key '{}' must be {}, got {}", key, rule, got));
}

// Limits on sizes no real run reaches: a mistyped value (1e8) is refused at once. Memory is
// checked separately (AgentConfig::check_memory).
constexpr std::size_t kMaxRolloutSteps = std::size_t{1} << 20;
constexpr std::size_t kMaxFrameStack = std::size_t{1} << 16;
constexpr std::size_t kMaxHiddenLayers = 1024;

void require_at_most(std::size_t value, std::size_t most, std::string_view key) {
  require(value <= most, key, fmt::format("at most {}", most), std::to_string(value));
}

}  // namespace

std::string_view to_string(Algorithm value) {
  return kAlgorithms.name(value);
}
std::string_view to_string(Modulation value) {
  return kModulations.name(value);
}
std::string_view to_string(NetworkMode value) {
  return kNetworkModes.name(value);
}
std::string_view to_string(ContextPolicy value) {
  return kContextPolicies.name(value);
}

Algorithm algorithm_from_string(std::string_view name) {
  return kAlgorithms.parse(name, "agent", &config::raise_as<ConfigError>);
}
Modulation modulation_from_string(std::string_view name) {
  return kModulations.parse(name, "modulation", &config::raise_as<ConfigError>);
}
NetworkMode network_mode_from_string(std::string_view name) {
  return kNetworkModes.parse(name, "network mode", &config::raise_as<ConfigError>);
}
neuromod::Backend device_from_string(std::string_view name) {
  return kDevices.parse(name, "device", &config::raise_as<ConfigError>);
}
neuromod::MatmulPrecision precision_from_string(std::string_view name) {
  return kPrecisions.parse(name, "precision", &config::raise_as<ConfigError>);
}
ContextPolicy context_policy_from_string(std::string_view name) {
  return kContextPolicies.parse(name, "context policy", &config::raise_as<ConfigError>);
}
PolicyType policy_type_from_string(std::string_view name) {
  return kPolicyTypes.parse(name, "policy", &config::raise_as<ConfigError>);
}
std::string_view to_string(PolicyType value) {
  return kPolicyTypes.name(value);
}

const std::vector<std::string>& AgentConfig::keys() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& [key, field] : fields()) out.push_back(key);
    return out;
  }();
  return names;
}

void read_fields(AgentConfig& config, config::Reader& reader) {
  for (const auto& [name, field] : fields()) {
    if (const nlohmann::json* value = reader.get_raw(name)) field.read(config, *value, reader);
  }
}

config::Reader config_reader(const nlohmann::json& json, std::string_view what) {
  if (!json.is_object()) {
    throw ConfigError(fmt::format("{} must be an object, got {}", what, json.dump()));
  }
  return config::Reader(json, "",
                        {.key_noun = "config key", .raise = &config::raise_as<ConfigError>});
}

void apply_json(AgentConfig& config, const nlohmann::json& json) {
  config::Reader reader = config_reader(json, "an agent config");
  read_fields(config, reader);
  reader.finish();
}

AgentConfig AgentConfig::from_json(const nlohmann::json& json) {
  AgentConfig config;
  apply_json(config, json);
  config.validate();
  return config;
}

nlohmann::json AgentConfig::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, field] : fields()) out[key] = field.write(*this);
  return out;
}

void AgentConfig::validate() const {
  require(!env.empty(), "env", "an environment id", "''");
  require(!hidden.empty(), "hidden", "a non-empty list of layer widths", "[]");
  require_at_most(hidden.size(), kMaxHiddenLayers, "hidden (its number of layers)");
  for (std::size_t width : hidden) {
    require(width > 0, "hidden", "positive widths", "0");
    require_at_most(width, neuromod::kMaxUnits, "hidden (a layer width)");
  }
  require(num_envs > 0, "num_envs", "positive", "0");
  require_at_most(num_envs, envs::kMaxNumEnvs, "num_envs");
  require(rollout_steps > 0, "rollout_steps", "positive", "0");
  require_at_most(rollout_steps, kMaxRolloutSteps, "rollout_steps");
  require(frame_stack > 0, "frame_stack", "positive", "0");
  require_at_most(frame_stack, kMaxFrameStack, "frame_stack");
  require(optimizer == "sgd" || optimizer == "momentum" || optimizer == "adam" ||
              optimizer == "rmsprop",
          "optimizer", "one of sgd, momentum, adam, rmsprop", optimizer);
  require(std::isfinite(learning_rate) && learning_rate > 0, "learning_rate", "positive",
          fmt::format("{}", learning_rate));
  require(max_grad_norm >= 0, "max_grad_norm", ">= 0", fmt::format("{}", max_grad_norm));
  require(gamma >= 0 && gamma <= 1, "gamma", "in [0, 1]", fmt::format("{}", gamma));
  require(gae_lambda >= 0 && gae_lambda <= 1, "gae_lambda", "in [0, 1]",
          fmt::format("{}", gae_lambda));
  require(value_coef >= 0, "value_coef", ">= 0", fmt::format("{}", value_coef));
  require(entropy_coef >= 0, "entropy_coef", ">= 0", fmt::format("{}", entropy_coef));
  require(ppo_epochs > 0, "ppo_epochs", "positive", "0");
  require(minibatches > 0 && minibatches <= num_envs * rollout_steps, "minibatches",
          "in [1, num_envs * rollout_steps]", std::to_string(minibatches));
  require(policy == PolicyType::kMlp || agent != Algorithm::kPpo || minibatches <= num_envs,
          "minibatches",
          "at most num_envs with a recurrent policy (PPO's minibatches are then whole env "
          "sequences): lower minibatches or raise num_envs",
          std::to_string(minibatches));
  require(clip_epsilon > 0 && clip_epsilon < 1, "clip_epsilon", "in (0, 1)",
          fmt::format("{}", clip_epsilon));
  require(value_clip >= 0, "value_clip", ">= 0", fmt::format("{}", value_clip));
  require(na_source == "surprise" || na_source == "entropy", "na_source", "surprise or entropy",
          na_source);
  require(na_sensitivity >= 0, "na_sensitivity", ">= 0", fmt::format("{}", na_sensitivity));
  require(na_change_threshold > 0, "na_change_threshold", "positive",
          fmt::format("{}", na_change_threshold));
  require(na_stats_rate > 0 && na_stats_rate <= 1, "na_stats_rate", "in (0, 1]",
          fmt::format("{}", na_stats_rate));
  require(context_reuse_ratio >= 0 && context_reuse_ratio <= 1, "context_reuse_ratio", "in [0, 1]",
          fmt::format("{}", context_reuse_ratio));
  require(max_contexts > 0, "max_contexts", "positive", "0");
  require(trace_envs <= num_envs, "trace_envs", "at most num_envs", std::to_string(trace_envs));
  require(contexts != ContextPolicy::kOnChange || modulation == Modulation::kDopamineNoradrenaline,
          "contexts",
          "fixed or task_id unless modulation is da+na (on_change needs the change flag)",
          std::string(to_string(contexts)));
  // The smallest env (one observation value, one action) gives a lower bound; the agent checks
  // again once its env's sizes are known.
  check_memory(1, 1);
}

std::uint64_t AgentConfig::memory_estimate(std::size_t observation_dim,
                                           std::size_t action_dim) const {
  using util::saturating_add, util::saturating_mul;
  constexpr std::uint64_t kFloat = sizeof(float);
  const std::uint64_t input = saturating_mul(observation_dim, frame_stack);
  const std::uint64_t heads = saturating_add(action_dim, 1);  // policy and value
  // Weights (with their gradients when they learn), layer by layer.
  std::uint64_t weights = 0, units = 0;
  std::uint64_t fan_in = input;
  for (const std::size_t width : hidden) {
    weights = saturating_add(weights, saturating_mul(fan_in, width));
    units = saturating_add(units, width);
    fan_in = width;
  }
  weights = saturating_add(weights, saturating_mul(fan_in, heads));
  const std::uint64_t weight_copies = network == NetworkMode::kTrainable ? 2 : 1;
  // The network keeps each layer's pre-activation, modulated and output values per batch row; the
  // largest batch is a step of every env or an update over the rollout (a PPO minibatch).
  const std::uint64_t rows = saturating_mul(num_envs, rollout_steps);
  const std::uint64_t update_rows =
      agent == Algorithm::kPpo ? rows / std::max<std::size_t>(1, minibatches) : rows;
  // A recurrent layer keeps its gates' values too: up to four per unit (LSTM).
  const std::uint64_t unit_floats = policy == PolicyType::kMlp ? 3 : 3 + 4;
  const std::uint64_t row_floats =
      saturating_add(input, saturating_add(saturating_mul(unit_floats, units), 2 * heads));
  const std::uint64_t batch_rows = std::max<std::uint64_t>(num_envs, update_rows);
  // The rollout: inputs, actions and seven per-step scalars (log-prob, value, next value, reward,
  // advantage, return, TD error) per env and step; the frame history and the step batch.
  const std::uint64_t rollout_floats = saturating_mul(rows, saturating_add(input, action_dim + 7));
  const std::uint64_t history_floats = saturating_mul(2 * num_envs, input);
  std::uint64_t floats = saturating_mul(weights, weight_copies);
  floats = saturating_add(floats, saturating_mul(batch_rows, row_floats));
  floats = saturating_add(floats, rollout_floats);
  floats = saturating_add(floats, history_floats);
  return saturating_mul(floats, kFloat);
}

void AgentConfig::check_memory(std::size_t observation_dim, std::size_t action_dim) const {
  util::require_memory<ConfigError>(
      memory_estimate(observation_dim, action_dim),
      fmt::format("the agent (num_envs {}, rollout_steps {}, hidden [{}], frame_stack {}, {} "
                  "observation values, {} actions)",
                  num_envs, rollout_steps, fmt::join(hidden, ", "), frame_stack, observation_dim,
                  action_dim),
      "lower num_envs, rollout_steps, the hidden widths or frame_stack");
}

}  // namespace locus::agents
