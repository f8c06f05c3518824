#include "bench/harness/methods/ewc.hpp"

#include <fmt/format.h>

#include <cmath>

#include "bench/harness/errors.hpp"
#include "neuromod/losses.hpp"

namespace locus::bench {

namespace nm = locus::neuromod;

void EwcConfig::validate() const {
  if (!(lambda >= 0.0) || !std::isfinite(lambda)) {
    throw InvalidArgumentError(fmt::format("ewc_lambda {} must be finite and >= 0", lambda));
  }
  if (!(gamma >= 0.0 && gamma <= 1.0)) {
    throw InvalidArgumentError(fmt::format("ewc_gamma {} must be in [0, 1]", gamma));
  }
}

Ewc::Ewc(EwcConfig config)
    : config_(config),
      penalty_(config.lambda / 2.0, {.running = config.online, .decay = config.gamma}, "ewc_lambda",
               config.lambda) {
  config_.validate();
}

void Ewc::consolidate(nm::Network& network, std::span<const Minibatch> batches) {
  if (batches.empty()) throw InvalidArgumentError("EWC: the Fisher needs at least one minibatch");
  PenaltyTerm term = anchored_term(network, protected_weights(network, "EWC"));
  nm::Matrix gradient;
  const auto scale = 1.0f / static_cast<float>(batches.size());
  for (const Minibatch& batch : batches) {
    const auto& outputs = network.forward(batch.inputs, batch.contexts);
    nm::softmax_cross_entropy(outputs.front(), batch.labels, &gradient);
    network.zero_grad();
    network.backward(gradient);
    for (auto& tensor : term) {
      const auto g = network.read_gradient(tensor.name, nm::kSharedContext);
      for (std::size_t i = 0; i < g.size(); ++i) tensor.importance[i] += scale * g[i] * g[i];
    }
  }
  network.zero_grad();
  penalty_.add(std::move(term));
}

}  // namespace locus::bench
