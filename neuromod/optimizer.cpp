#include "neuromod/optimizer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "neuromod/errors.hpp"

namespace locus::neuromod {

std::string_view to_string(OptimizerKind kind) {
  switch (kind) {
    case OptimizerKind::kSgd:
      return "sgd";
    case OptimizerKind::kMomentum:
      return "momentum";
    case OptimizerKind::kAdam:
      return "adam";
    case OptimizerKind::kRmsprop:
      return "rmsprop";
  }
  return "unknown";
}

OptimizerKind optimizer_kind_from_string(std::string_view name) {
  for (auto kind : {OptimizerKind::kSgd, OptimizerKind::kMomentum, OptimizerKind::kAdam,
                    OptimizerKind::kRmsprop}) {
    if (to_string(kind) == name) return kind;
  }
  throw InvalidArgumentError(
      fmt::format("unknown optimizer '{}'; choose one of sgd, momentum, adam, rmsprop", name));
}

void OptimizerConfig::validate() const {
  auto require = [](bool ok, std::string_view field, float value, std::string_view allowed) {
    if (!ok) {
      throw InvalidArgumentError(
          fmt::format("optimizer: {} = {} is out of range; it must be {}", field, value, allowed));
    }
  };
  require(std::isfinite(learning_rate) && learning_rate >= 0, "learning_rate", learning_rate,
          "finite and >= 0");
  require(momentum >= 0 && momentum < 1, "momentum", momentum, "in [0, 1)");
  require(beta1 >= 0 && beta1 < 1, "beta1", beta1, "in [0, 1)");
  require(beta2 >= 0 && beta2 < 1, "beta2", beta2, "in [0, 1)");
  require(epsilon > 0 && std::isfinite(epsilon), "epsilon", epsilon, "finite and > 0");
  require(rms_alpha >= 0 && rms_alpha < 1, "rms_alpha", rms_alpha, "in [0, 1)");
  require(weight_decay >= 0 && std::isfinite(weight_decay), "weight_decay", weight_decay,
          "finite and >= 0");
  require(clip_grad_norm >= 0 && std::isfinite(clip_grad_norm), "clip_grad_norm", clip_grad_norm,
          "finite and >= 0 (0 disables it)");
  require(clip_grad_value >= 0 && std::isfinite(clip_grad_value), "clip_grad_value",
          clip_grad_value, "finite and >= 0 (0 disables it)");
  if (nesterov && kind != OptimizerKind::kMomentum) {
    throw InvalidArgumentError(fmt::format(
        "optimizer: nesterov applies to momentum SGD only, not to {}", to_string(kind)));
  }
}

std::size_t OptimizerConfig::state_arrays() const {
  switch (kind) {
    case OptimizerKind::kSgd:
      return 0;
    case OptimizerKind::kMomentum:
      return 1;
    case OptimizerKind::kRmsprop:
      return 1;
    case OptimizerKind::kAdam:
      return 2;
  }
  return 0;
}

float clip_factor(const OptimizerConfig& config, double global_norm) {
  if (config.clip_grad_norm <= 0 || global_norm <= config.clip_grad_norm) return 1.0f;
  return static_cast<float>(config.clip_grad_norm / (global_norm + 1e-6));
}

void apply_update(const OptimizerConfig& config, std::span<float> value,
                  std::span<const float> gradient, float gradient_scale, std::span<float> first,
                  std::span<float> second, std::int64_t step) {
  const std::size_t n = value.size();
  if (gradient.size() != n || (config.state_arrays() >= 1 && first.size() != n) ||
      (config.state_arrays() >= 2 && second.size() != n)) {
    throw ShapeError(fmt::format(
        "apply_update: value has {} elements but gradient {}, first state {}, second state {}", n,
        gradient.size(), first.size(), second.size()));
  }
  if (step < 1) {
    throw InvalidArgumentError(fmt::format("apply_update: step must be >= 1, got {}", step));
  }
  const float lr = config.learning_rate;
  const float wd = config.weight_decay;
  const bool coupled_decay = wd > 0 && !config.decoupled_weight_decay;
  const float clip = config.clip_grad_value;
  auto effective_gradient = [&](std::size_t i) {
    float g = gradient[i] * gradient_scale;
    if (clip > 0) g = std::clamp(g, -clip, clip);
    if (coupled_decay) g += wd * value[i];
    return g;
  };
  if (wd > 0 && config.decoupled_weight_decay) {
    const float keep = 1.0f - lr * wd;
    for (std::size_t i = 0; i < n; ++i) value[i] *= keep;
  }
  switch (config.kind) {
    case OptimizerKind::kSgd:
      for (std::size_t i = 0; i < n; ++i) value[i] -= lr * effective_gradient(i);
      break;
    case OptimizerKind::kMomentum: {
      const float mu = config.momentum;
      for (std::size_t i = 0; i < n; ++i) {
        const float g = effective_gradient(i);
        // PyTorch starts the buffer at the first gradient rather than at mu * 0 + g (the same value
        // when dampening is 0, which it is here).
        first[i] = step == 1 ? g : mu * first[i] + g;
        value[i] -= lr * (config.nesterov ? g + mu * first[i] : first[i]);
      }
      break;
    }
    case OptimizerKind::kAdam: {
      const float b1 = config.beta1, b2 = config.beta2;
      const double correction1 = 1.0 - std::pow(static_cast<double>(b1), static_cast<double>(step));
      const double correction2 = 1.0 - std::pow(static_cast<double>(b2), static_cast<double>(step));
      const auto step_size = static_cast<float>(lr / correction1);
      const auto root_correction2 = static_cast<float>(std::sqrt(correction2));
      for (std::size_t i = 0; i < n; ++i) {
        const float g = effective_gradient(i);
        first[i] = b1 * first[i] + (1 - b1) * g;
        second[i] = b2 * second[i] + (1 - b2) * g * g;
        value[i] -=
            step_size * first[i] / (std::sqrt(second[i]) / root_correction2 + config.epsilon);
      }
      break;
    }
    case OptimizerKind::kRmsprop: {
      const float alpha = config.rms_alpha;
      for (std::size_t i = 0; i < n; ++i) {
        const float g = effective_gradient(i);
        first[i] = alpha * first[i] + (1 - alpha) * g * g;
        value[i] -= lr * g / (std::sqrt(first[i]) + config.epsilon);
      }
      break;
    }
  }
}

}  // namespace locus::neuromod
