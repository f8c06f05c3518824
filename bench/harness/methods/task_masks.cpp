#include "bench/harness/methods/task_masks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "bench/harness/errors.hpp"
#include "neuromod/random.hpp"

namespace locus::bench {

namespace nm = locus::neuromod;

namespace {

// Keeps the masks' draws apart from every other stream of the run's seed.
constexpr std::uint64_t kMaskStream = 0x7864672d6d61736bULL;  // "xdg-mask"

}  // namespace

void XdgConfig::validate() const {
  if (!(keep >= 0.0 && keep <= 1.0)) {
    throw InvalidArgumentError(fmt::format(
        "xdg_keep {} must be in [0, 1]: the fraction of each hidden layer's units a task keeps "
        "(0.2 in the paper; 0 turns XdG off)",
        keep));
  }
}

std::size_t kept_units(std::size_t units, double keep) {
  const auto rounded = static_cast<std::size_t>(std::llround(keep * static_cast<double>(units)));
  return std::clamp<std::size_t>(rounded, 1, units);
}

std::vector<float> xdg_mask(std::uint64_t seed, std::int64_t task, std::size_t layer,
                            std::size_t units, double keep) {
  // A partial Fisher-Yates shuffle: the first `kept` places of a random permutation.
  std::vector<std::size_t> order(units);
  std::iota(order.begin(), order.end(), std::size_t{0});
  nm::RandomStream random(seed ^ kMaskStream, static_cast<std::uint64_t>(task), layer);
  const std::size_t kept = kept_units(units, keep);
  std::vector<float> mask(units, 0.0f);
  for (std::size_t i = 0; i < kept; ++i) {
    const std::size_t j = i + static_cast<std::size_t>(random.uniform_index(units - i));
    std::swap(order[i], order[j]);
    mask[order[i]] = 1.0f;
  }
  return mask;
}

void add_gating_gains(nm::NetworkSpec& spec) {
  for (auto& layer : spec.layers) {
    layer.gain = true;
    layer.gain_init = nm::GainInit::kOnes;
    layer.site = nm::ModulationSite::kPreActivation;
  }
  spec.validate();
}

void gate_context(nm::Network& network, nm::ContextId context, std::uint64_t seed, double keep) {
  for (const auto& info : network.parameters()) {
    if (info.kind != nm::ParameterKind::kLayerGain || info.context != context) continue;
    network.write_parameter(info.name, context,
                            xdg_mask(seed, context, info.index, info.size(), keep));
  }
  network.set_frozen(context, true);
}

}  // namespace locus::bench
