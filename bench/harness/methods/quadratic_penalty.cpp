#include "bench/harness/methods/quadratic_penalty.hpp"

#include <fmt/format.h>

#include <cmath>

#include "bench/harness/errors.hpp"

namespace locus::bench {

namespace nm = locus::neuromod;

std::vector<nm::ParameterInfo> protected_weights(const nm::Network& network,
                                                 std::string_view method) {
  std::vector<nm::ParameterInfo> out;
  for (const auto& info : network.parameters()) {
    if (info.trainable && info.context == nm::kSharedContext) out.push_back(info);
  }
  if (out.empty()) {
    throw InvalidArgumentError(fmt::format(
        "{} protects trainable shared weights, and this network has none (its weights are fixed "
        "random ones); use network mlp",
        method));
  }
  return out;
}

PenaltyTerm anchored_term(const nm::Network& network,
                          const std::vector<nm::ParameterInfo>& weights) {
  PenaltyTerm term;
  for (const auto& info : weights) {
    term.push_back({.name = info.name,
                    .importance = std::vector<float>(info.size(), 0.0f),
                    .anchor = network.read_parameter(info.name, info.context)});
  }
  return term;
}

QuadraticPenalty::QuadraticPenalty(double coefficient, Combination combination, std::string setting,
                                   double setting_value)
    : coefficient_(coefficient),
      combination_(combination),
      setting_(std::move(setting)),
      setting_value_(setting_value) {}

void QuadraticPenalty::add(PenaltyTerm term) {
  if (!combination_.running || terms_.empty()) {
    terms_.push_back(std::move(term));
    return;
  }
  PenaltyTerm& running = terms_.front();
  const auto decay = static_cast<float>(combination_.decay);
  const auto new_weight = static_cast<float>(combination_.new_weight);
  for (std::size_t t = 0; t < running.size(); ++t) {
    auto& importance = running[t].importance;
    for (std::size_t i = 0; i < importance.size(); ++i) {
      importance[i] = decay * importance[i] + new_weight * term[t].importance[i];
    }
    running[t].anchor = std::move(term[t].anchor);
  }
}

void QuadraticPenalty::add_gradient(nm::Network& network) const {
  if (terms_.empty() || coefficient_ == 0.0) return;
  const auto scale = static_cast<float>(2.0 * coefficient_);
  for (std::size_t t = 0; t < terms_.front().size(); ++t) {
    const std::string& name = terms_.front()[t].name;
    const auto theta = network.read_parameter(name, nm::kSharedContext);
    std::vector<float> gradient(theta.size(), 0.0f);
    for (const PenaltyTerm& term : terms_) {
      const PenaltyTensor& tensor = term[t];
      for (std::size_t i = 0; i < theta.size(); ++i) {
        gradient[i] += scale * tensor.importance[i] * (theta[i] - tensor.anchor[i]);
      }
    }
    for (std::size_t i = 0; i < gradient.size(); ++i) {
      if (!std::isfinite(gradient[i])) {
        throw InvalidArgumentError(fmt::format(
            "the penalty gradient of {} is {} at {}[{}]: the weights diverged, as they do when "
            "the penalty's weight x the importance makes a step overshoot; lower {} ({:g}) or lr",
            setting_, gradient[i], name, i, setting_, setting_value_));
      }
    }
    network.add_to_gradient(name, nm::kSharedContext, gradient);
  }
}

double QuadraticPenalty::value(const nm::Network& network) const {
  double sum = 0.0;
  for (const PenaltyTerm& term : terms_) {
    for (const PenaltyTensor& tensor : term) {
      const auto theta = network.read_parameter(tensor.name, nm::kSharedContext);
      for (std::size_t i = 0; i < theta.size(); ++i) {
        const double d = static_cast<double>(theta[i]) - tensor.anchor[i];
        sum += tensor.importance[i] * d * d;
      }
    }
  }
  return coefficient_ * sum;
}

}  // namespace locus::bench
