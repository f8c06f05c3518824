#include "bench/harness/methods/synaptic_intelligence.hpp"

#include <fmt/format.h>

#include <cmath>

#include "bench/harness/errors.hpp"

namespace locus::bench {

namespace nm = locus::neuromod;

void SiConfig::validate() const {
  if (!(c >= 0.0) || !std::isfinite(c)) {
    throw InvalidArgumentError(fmt::format("si_lambda {} must be finite and >= 0", c));
  }
  if (!(xi > 0.0) || !std::isfinite(xi)) {
    throw InvalidArgumentError(fmt::format("si_xi {} must be finite and > 0", xi));
  }
}

SynapticIntelligence::SynapticIntelligence(SiConfig config)
    : config_(config), penalty_(config.c, {.running = true}, "si_lambda", config.c) {
  config_.validate();
}

void SynapticIntelligence::begin_task(const nm::Network& network) {
  if (weights_.empty()) weights_ = protected_weights(network, "SI");
  task_start_.clear();
  omega_.clear();
  for (const auto& info : weights_) {
    task_start_.push_back(network.read_parameter(info.name, nm::kSharedContext));
    omega_.emplace_back(info.size(), 0.0f);
  }
  before_step_ = task_start_;
  gradient_.assign(weights_.size(), {});
}

void SynapticIntelligence::record_gradient(const nm::Network& network) {
  if (omega_.empty()) throw InvalidArgumentError("SI: record_gradient() before begin_task()");
  for (std::size_t t = 0; t < weights_.size(); ++t) {
    gradient_[t] = network.read_gradient(weights_[t].name, nm::kSharedContext);
  }
}

void SynapticIntelligence::record_step(const nm::Network& network) {
  for (std::size_t t = 0; t < weights_.size(); ++t) {
    auto after = network.read_parameter(weights_[t].name, nm::kSharedContext);
    auto& before = before_step_[t];
    for (std::size_t i = 0; i < after.size(); ++i) {
      omega_[t][i] -= gradient_[t][i] * (after[i] - before[i]);
    }
    before = std::move(after);
  }
}

void SynapticIntelligence::end_task(const nm::Network& network) {
  PenaltyTerm term = anchored_term(network, weights_);
  const auto xi = static_cast<float>(config_.xi);
  for (std::size_t t = 0; t < term.size(); ++t) {
    for (std::size_t i = 0; i < term[t].importance.size(); ++i) {
      const float delta = term[t].anchor[i] - task_start_[t][i];
      term[t].importance[i] = omega_[t][i] / (delta * delta + xi);
    }
  }
  penalty_.add(std::move(term));
}

}  // namespace locus::bench
