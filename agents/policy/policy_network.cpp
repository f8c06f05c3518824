#include "agents/policy/policy_network.hpp"

#include <fmt/format.h>

#include "agents/errors.hpp"
#include "neuromod/errors.hpp"

namespace locus::agents {
namespace {

neuromod::Recurrence recurrence_of(PolicyType policy) {
  switch (policy) {
    case PolicyType::kRnn:
      return neuromod::Recurrence::kElman;
    case PolicyType::kGru:
      return neuromod::Recurrence::kGru;
    case PolicyType::kLstm:
      return neuromod::Recurrence::kLstm;
    case PolicyType::kMlp:
      break;
  }
  return neuromod::Recurrence::kNone;
}

}  // namespace

neuromod::NetworkSpec policy_network_spec(const AgentConfig& config, std::size_t input_dim,
                                          std::size_t policy_units, std::uint64_t seed) {
  const bool modulated = config.network == NetworkMode::kModulated;
  neuromod::NetworkSpec spec =
      modulated ? neuromod::modulated_mlp(input_dim, config.hidden, policy_units, seed)
                : neuromod::baseline_mlp(input_dim, config.hidden, policy_units, seed, true);
  if (const auto recurrence = recurrence_of(config.policy);
      recurrence != neuromod::Recurrence::kNone) {
    // The first layer becomes the recurrent one, initialized as recurrent_network's: W and U of
    // unit scale (tanh units, not ReLU's He scale).
    neuromod::LayerSpec& layer = spec.layers.front();
    layer.recurrence = recurrence;
    layer.activation = neuromod::Activation::kTanh;
    layer.init_scale = 1.0f;
  }
  neuromod::set_actor_critic_heads(spec, policy_units,
                                   modulated ? neuromod::ReadoutWeights::kTrainablePerContext
                                             : neuromod::ReadoutWeights::kTrainableShared);
  spec.name = fmt::format("{}_{}_{}_actor_critic", to_string(config.network),
                          to_string(config.policy), config.env);
  spec.validate();
  return spec;
}

void set_policy_precision(neuromod::Network& network, neuromod::MatmulPrecision precision) {
  try {
    network.set_matmul_precision(precision);
  } catch (const neuromod::InvalidArgumentError& e) {
    throw ConfigError(fmt::format("config key 'precision': {}", e.what()));
  }
}

std::unique_ptr<neuromod::Network> make_policy_network(const AgentConfig& config,
                                                       std::size_t input_dim,
                                                       std::size_t policy_units,
                                                       std::uint64_t seed) {
  auto network = neuromod::make_network(policy_network_spec(config, input_dim, policy_units, seed),
                                        config.device);
  set_policy_precision(*network, config.precision);
  network->set_gradient_mode(config.network == NetworkMode::kModulated
                                 ? neuromod::GradientMode::kContextOnly
                                 : neuromod::GradientMode::kAllTrainable);
  return network;
}

}  // namespace locus::agents
