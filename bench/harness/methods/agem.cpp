#include "bench/harness/methods/agem.hpp"

#include <fmt/format.h>

#include "bench/harness/errors.hpp"
#include "neuromod/losses.hpp"

namespace locus::bench {

namespace nm = locus::neuromod;

namespace {

void read_gradients(const nm::Network& network, const std::vector<nm::ParameterInfo>& weights,
                    std::vector<float>& out) {
  out.clear();
  for (const auto& info : weights) {
    const auto g = network.read_gradient(info.name, nm::kSharedContext);
    out.insert(out.end(), g.begin(), g.end());
  }
}

}  // namespace

bool project_gradient(std::span<float> g, std::span<const float> g_ref) {
  if (g.size() != g_ref.size()) {
    throw InvalidArgumentError(
        fmt::format("A-GEM: the gradient has {} values, the reference {}", g.size(), g_ref.size()));
  }
  double dot = 0.0, ref_norm = 0.0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    dot += static_cast<double>(g[i]) * g_ref[i];
    ref_norm += static_cast<double>(g_ref[i]) * g_ref[i];
  }
  if (dot >= 0.0 || ref_norm == 0.0) return false;
  const double scale = dot / ref_norm;
  for (std::size_t i = 0; i < g.size(); ++i) g[i] -= static_cast<float>(scale * g_ref[i]);
  return true;
}

void Agem::compute_reference(nm::Network& network, const Minibatch& batch) {
  if (weights_.empty()) weights_ = protected_weights(network, "A-GEM");
  nm::Matrix gradient;
  const auto& outputs = network.forward(batch.inputs, batch.contexts);
  nm::softmax_cross_entropy(outputs.front(), batch.labels, &gradient);
  network.zero_grad();
  network.backward(gradient);
  read_gradients(network, weights_, reference_);
  network.zero_grad();
}

bool Agem::project(nm::Network& network) {
  if (reference_.empty()) return false;
  read_gradients(network, weights_, current_);
  std::vector<float> projected = current_;
  if (!project_gradient(projected, reference_)) return false;
  ++projections_;
  // The network's gradient moves by projected - current, tensor by tensor.
  std::size_t offset = 0;
  for (const auto& info : weights_) {
    std::vector<float> change(info.size());
    for (std::size_t i = 0; i < change.size(); ++i) {
      change[i] = projected[offset + i] - current_[offset + i];
    }
    network.add_to_gradient(info.name, nm::kSharedContext, change);
    offset += info.size();
  }
  return true;
}

}  // namespace locus::bench
