#include "neuromod/ngm.hpp"

#include <fmt/format.h>

#include <cmath>

#include "neuromod/errors.hpp"

namespace locus::neuromod {

std::string_view to_string(GainPlacement placement) {
  switch (placement) {
    case GainPlacement::kEveryLayer:
      return "every_layer";
    case GainPlacement::kOutputOnly:
      return "output_only";
    case GainPlacement::kSelectedLayers:
      return "selected_layers";
  }
  return "unknown";
}

std::vector<std::size_t> GainTarget::slots(const Network& network) const {
  const std::size_t total = network.weight_gain_slots();
  const std::size_t num_layers = network.spec().layers.size();
  std::vector<std::size_t> result;
  switch (placement) {
    case GainPlacement::kEveryLayer:
      for (std::size_t s = 0; s < total; ++s) result.push_back(s);
      break;
    case GainPlacement::kOutputOnly:
      for (std::size_t s = num_layers; s < total; ++s) result.push_back(s);
      break;
    case GainPlacement::kSelectedLayers:
      if (layers.empty()) {
        throw InvalidArgumentError("gain target: selected_layers needs at least one layer");
      }
      for (std::size_t s : layers) {
        if (s >= total) {
          throw InvalidArgumentError(
              fmt::format("gain target: layer slot {} out of range; network "
                          "'{}' has slots 0..{} (layers, then heads)",
                          s, network.spec().name, total - 1));
        }
        result.push_back(s);
      }
      break;
  }
  return result;
}

void apply_weight_gain(Network& network, const GainTarget& target, float gain) {
  for (std::size_t slot : target.slots(network)) network.set_weight_gain(slot, gain);
}

void NgmConfig::validate() const {
  if (!(gamma >= 0 && gamma <= 1)) {
    throw InvalidArgumentError(fmt::format("NGM: gamma = {} must be in [0, 1]", gamma));
  }
  if (!std::isfinite(g0) || !std::isfinite(eta)) {
    throw InvalidArgumentError(fmt::format("NGM: g0 = {} and eta = {} must be finite", g0, eta));
  }
}

NgmGain::NgmGain(const NgmConfig& config) : config_(config), gain_(config.g0) {
  config_.validate();
}

void NgmGain::attach(Network& network) {
  gain_ = config_.g0;
  steps_ = 0;
  trace_.clear();
  apply_weight_gain(network, config_.target, gain_);
}

float NgmGain::update_from_entropy(double entropy) {
  if (!std::isfinite(entropy) || entropy < 0) {
    throw NonFiniteError(fmt::format("NGM: entropy {} must be finite and >= 0", entropy));
  }
  gain_ = static_cast<float>(config_.gamma * double(gain_) + (1.0 - config_.gamma) * config_.g0 +
                             config_.eta * entropy);
  ++steps_;
  if (config_.record_trace) trace_.push_back({steps_, entropy, gain_});
  return gain_;
}

float NgmGain::update(Network& network, const Matrix& logits) {
  const float gain = update_from_entropy(mean_softmax_entropy(logits, config_.entropy_unit));
  apply_weight_gain(network, config_.target, gain);
  return gain;
}

}  // namespace locus::neuromod
