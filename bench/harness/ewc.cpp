#include "bench/harness/ewc.hpp"

#include <fmt/format.h>

#include <cmath>

#include "bench/harness/errors.hpp"
#include "neuromod/losses.hpp"

namespace locus::bench {

namespace nm = locus::neuromod;

namespace {

// The weights EWC protects: trainable and shared by every task.
std::vector<nm::ParameterInfo> protected_weights(const nm::Network& network) {
  std::vector<nm::ParameterInfo> out;
  for (const auto& info : network.parameters()) {
    if (info.trainable && info.context == nm::kSharedContext) out.push_back(info);
  }
  return out;
}

}  // namespace

void EwcConfig::validate() const {
  if (!(lambda >= 0.0) || !std::isfinite(lambda)) {
    throw InvalidArgumentError(fmt::format("ewc_lambda {} must be finite and >= 0", lambda));
  }
  if (!(gamma >= 0.0 && gamma <= 1.0)) {
    throw InvalidArgumentError(fmt::format("ewc_gamma {} must be in [0, 1]", gamma));
  }
}

Ewc::Ewc(EwcConfig config) : config_(config) {
  config_.validate();
}

void Ewc::consolidate(nm::Network& network, std::span<const Minibatch> batches) {
  if (batches.empty()) throw InvalidArgumentError("EWC: the Fisher needs at least one minibatch");
  const auto weights = protected_weights(network);
  if (weights.empty()) {
    throw InvalidArgumentError(
        "EWC protects trainable shared weights, and this network has none (its weights are "
        "fixed random ones); use network mlp");
  }
  Term term;
  for (const auto& info : weights) {
    term.push_back({.name = info.name,
                    .fisher = std::vector<float>(info.size(), 0.0f),
                    .anchor = network.read_parameter(info.name, info.context)});
  }
  nm::Matrix gradient;
  const auto scale = 1.0f / static_cast<float>(batches.size());
  for (const Minibatch& batch : batches) {
    const auto& outputs = network.forward(batch.inputs, batch.contexts);
    nm::softmax_cross_entropy(outputs.front(), batch.labels, &gradient);
    network.zero_grad();
    network.backward(gradient);
    for (auto& tensor : term) {
      const auto g = network.read_gradient(tensor.name, nm::kSharedContext);
      for (std::size_t i = 0; i < g.size(); ++i) tensor.fisher[i] += scale * g[i] * g[i];
    }
  }
  network.zero_grad();
  if (!config_.online || terms_.empty()) {
    terms_.push_back(std::move(term));
    return;
  }
  Term& running = terms_.front();
  const auto gamma = static_cast<float>(config_.gamma);
  for (std::size_t t = 0; t < running.size(); ++t) {
    for (std::size_t i = 0; i < running[t].fisher.size(); ++i) {
      running[t].fisher[i] = gamma * running[t].fisher[i] + term[t].fisher[i];
    }
    running[t].anchor = std::move(term[t].anchor);
  }
}

void Ewc::add_penalty_gradient(nm::Network& network) const {
  if (terms_.empty() || config_.lambda == 0.0) return;
  const auto lambda = static_cast<float>(config_.lambda);
  for (std::size_t t = 0; t < terms_.front().size(); ++t) {
    const std::string& name = terms_.front()[t].name;
    const auto theta = network.read_parameter(name, nm::kSharedContext);
    std::vector<float> gradient(theta.size(), 0.0f);
    for (const Term& term : terms_) {
      const Tensor& tensor = term[t];
      for (std::size_t i = 0; i < theta.size(); ++i) {
        gradient[i] += lambda * tensor.fisher[i] * (theta[i] - tensor.anchor[i]);
      }
    }
    for (std::size_t i = 0; i < gradient.size(); ++i) {
      if (!std::isfinite(gradient[i])) {
        throw InvalidArgumentError(fmt::format(
            "EWC's penalty gradient is {} at {}[{}]: the weights diverged, as they do when "
            "ewc_lambda x the Fisher makes a step overshoot; lower ewc_lambda ({:g}) or lr",
            gradient[i], name, i, config_.lambda));
      }
    }
    network.add_to_gradient(name, nm::kSharedContext, gradient);
  }
}

double Ewc::penalty(const nm::Network& network) const {
  double sum = 0.0;
  for (const Term& term : terms_) {
    for (const Tensor& tensor : term) {
      const auto theta = network.read_parameter(tensor.name, nm::kSharedContext);
      for (std::size_t i = 0; i < theta.size(); ++i) {
        const double d = static_cast<double>(theta[i]) - tensor.anchor[i];
        sum += tensor.fisher[i] * d * d;
      }
    }
  }
  return 0.5 * config_.lambda * sum;
}

}  // namespace locus::bench
