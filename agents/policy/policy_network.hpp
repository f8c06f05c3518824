#pragma once
// The network of an agent's policy: a body of the config's hidden layers (feed-forward, or a
// recurrent first layer for rnn/gru/lstm policies) and two heads read from it, "policy" (the
// action head's units) and "value" (one unit). Modulated: fixed random weights with per-context
// gains, biases and readouts; trainable: an ordinary network, every weight learned.

#include <memory>

#include "agents/config.hpp"
#include "neuromod/network.hpp"

namespace locus::agents {

neuromod::NetworkSpec policy_network_spec(const AgentConfig& config, std::size_t input_dim,
                                          std::size_t policy_units, std::uint64_t seed);

// The network for the spec on the config's device, with its precision (a precision the device
// lacks is a ConfigError naming the key) and gradient mode.
std::unique_ptr<neuromod::Network> make_policy_network(const AgentConfig& config,
                                                       std::size_t input_dim,
                                                       std::size_t policy_units,
                                                       std::uint64_t seed);

// Sets the config's precision on a new or loaded network; a precision the device or CPU lacks is a
// ConfigError naming the key.
void set_policy_precision(neuromod::Network& network, neuromod::MatmulPrecision precision);

}  // namespace locus::agents
