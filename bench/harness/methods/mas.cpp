#include "bench/harness/methods/mas.hpp"

#include <fmt/format.h>

#include <cmath>

#include "bench/harness/errors.hpp"

namespace locus::bench {

namespace nm = locus::neuromod;

void MasConfig::validate() const {
  if (!(lambda >= 0.0) || !std::isfinite(lambda)) {
    throw InvalidArgumentError(fmt::format("mas_lambda {} must be finite and >= 0", lambda));
  }
  if (!(alpha >= 0.0 && alpha <= 1.0)) {
    throw InvalidArgumentError(fmt::format("mas_alpha {} must be in [0, 1]", alpha));
  }
}

Mas::Mas(MasConfig config)
    : penalty_(config.lambda,
               {.running = true, .decay = config.alpha, .new_weight = 1 - config.alpha},
               "mas_lambda", config.lambda) {
  config.validate();
}

void Mas::consolidate(nm::Network& network, std::span<const Minibatch> batches) {
  if (batches.empty())
    throw InvalidArgumentError("MAS: the importance needs at least one minibatch");
  PenaltyTerm term = anchored_term(network, protected_weights(network, "MAS"));
  nm::Matrix gradient;
  const auto scale = 1.0f / static_cast<float>(batches.size());
  for (const Minibatch& batch : batches) {
    const nm::Matrix& outputs = network.forward(batch.inputs, batch.contexts).front();
    // d/df of mean_rows ||f||^2 = 2 f / rows.
    gradient.resize({outputs.shape(0), outputs.shape(1)});
    const float per_row = 2.0f / static_cast<float>(outputs.shape(0));
    for (std::size_t i = 0; i < outputs.size(); ++i)
      gradient.data()[i] = per_row * outputs.data()[i];
    network.zero_grad();
    network.backward(gradient);
    for (auto& tensor : term) {
      const auto g = network.read_gradient(tensor.name, nm::kSharedContext);
      for (std::size_t i = 0; i < g.size(); ++i) tensor.importance[i] += scale * std::abs(g[i]);
    }
  }
  network.zero_grad();
  penalty_.add(std::move(term));
}

}  // namespace locus::bench
