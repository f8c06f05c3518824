#include "envs/wrappers/normalize_observation.hpp"

#include <cmath>
#include <type_traits>

namespace locus::envs {

namespace {

// numpy's result dtype of (x - float32 array) for x of dtype T: the small integer types and
// float32 stay float32, the rest go to float64.
template <class T>
constexpr bool kFloat32Difference =
    std::is_same_v<T, float> || std::is_same_v<T, bool> || std::is_same_v<T, std::int8_t> ||
    std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::int16_t>;

}  // namespace

NormalizeObservation::NormalizeObservation(std::unique_ptr<Env> env, double epsilon)
    : Wrapper(std::move(env)), epsilon_(epsilon) {
  const auto* box = dynamic_cast<const Box*>(&env_->observation_space());
  if (box == nullptr) {
    throw InvalidArgumentError("NormalizeObservation: the observation space of " + env_->name() +
                               " is " + env_->observation_space().to_string() +
                               "; only a Box observation space can be normalized");
  }
  if (!(epsilon > 0)) {
    throw InvalidArgumentError("NormalizeObservation: epsilon must be > 0, got " +
                               std::to_string(epsilon));
  }
  inner_dtype_ = box->dtype();
  const auto n = static_cast<std::size_t>(shape_size(box->shape()));
  mean_.assign(n, 0.0);
  var_.assign(n, 1.0);
  if (inner_dtype_ != DType::kFloat32) scratch_.resize(box->packed_bytes());
  set_observation_space(std::make_shared<Box>(-INFINITY, INFINITY, box->shape(), DType::kFloat32));
}

void NormalizeObservation::set_running_stats(std::vector<double> mean, std::vector<double> var,
                                             double count) {
  if (mean.size() != mean_.size() || var.size() != var_.size()) {
    throw InvalidArgumentError("NormalizeObservation::set_running_stats: mean has " +
                               std::to_string(mean.size()) + " and var " +
                               std::to_string(var.size()) + " elements, the observation has " +
                               std::to_string(mean_.size()));
  }
  for (std::size_t i = 0; i < var.size(); ++i) {
    if (!(var[i] >= 0)) {
      throw InvalidArgumentError("NormalizeObservation::set_running_stats: var[" +
                                 std::to_string(i) + "] = " + std::to_string(var[i]) +
                                 " must be >= 0");
    }
  }
  if (!(count > 0)) {
    throw InvalidArgumentError("NormalizeObservation::set_running_stats: count must be > 0, got " +
                               std::to_string(count));
  }
  // The precision the statistics have after updates with this env's observations.
  stats_float32_ = inner_dtype_ == DType::kFloat32;
  if (stats_float32_) {
    for (double& m : mean) m = static_cast<float>(m);
    for (double& v : var) v = static_cast<float>(v);
  }
  mean_ = std::move(mean);
  var_ = std::move(var);
  count_ = count;
}

template <class T>
void NormalizeObservation::update(std::span<const T> x) {
  // update_mean_var_count_from_moments with a batch of one: batch_mean = x, batch_var = 0 (NaN
  // for a non-finite x, as np.var gives), batch_count = 1. Operations in numpy's order.
  const double total = count_ + 1.0;
  if constexpr (std::is_same_v<T, float>) {
    if (stats_float32_) {
      // numpy casts the Python-float count and total to float32 (NEP 50 weak scalars).
      const auto count_f = static_cast<float>(count_);
      const auto total_f = static_cast<float>(total);
      for (std::size_t i = 0; i < x.size(); ++i) {
        const float mean = static_cast<float>(mean_[i]);
        const float var = static_cast<float>(var_[i]);
        const float delta = x[i] - mean;
        const float centred = x[i] - x[i];
        const float batch_var = centred * centred;
        const float m2 = var * count_f + batch_var + delta * delta * count_f / total_f;
        mean_[i] = mean + delta / total_f;
        var_[i] = m2 / total_f;
      }
      count_ = total;
      return;
    }
  }
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto xi = static_cast<double>(x[i]);
    const double delta = xi - mean_[i];
    const double centred = xi - xi;
    const double batch_var = centred * centred;
    // While the statistics are still float32, var * count is a float32 product.
    const double m_a =
        stats_float32_
            ? static_cast<double>(static_cast<float>(var_[i]) * static_cast<float>(count_))
            : var_[i] * count_;
    const double m2 = m_a + batch_var + delta * delta * count_ / total;
    mean_[i] = mean_[i] + delta / total;
    var_[i] = m2 / total;
  }
  stats_float32_ = false;
  count_ = total;
}

template <class T>
void NormalizeObservation::write(std::span<const T> x, std::span<float> out) const {
  const auto eps_f = static_cast<float>(epsilon_);
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (stats_float32_) {
      const auto std_f = std::sqrt(static_cast<float>(var_[i]) + eps_f);
      if constexpr (kFloat32Difference<T>) {
        const float diff = static_cast<float>(x[i]) - static_cast<float>(mean_[i]);
        out[i] = diff / std_f;
      } else {
        const double diff = static_cast<double>(x[i]) - mean_[i];
        out[i] = static_cast<float>(diff / static_cast<double>(std_f));
      }
    } else {
      const double diff = static_cast<double>(x[i]) - mean_[i];
      out[i] = static_cast<float>(diff / std::sqrt(var_[i] + epsilon_));
    }
  }
}

std::span<std::byte> NormalizeObservation::inner_buffer(std::span<std::byte> observation) {
  return inner_dtype_ == DType::kFloat32 ? observation : std::span<std::byte>(scratch_);
}

void NormalizeObservation::normalize(std::span<const std::byte> inner,
                                     std::span<std::byte> observation) {
  visit_dtype(inner_dtype_, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const auto x = as_span<T>(inner);
    if (update_running_mean_) update<T>(x);
    // In place for float32: each element is read before it is overwritten.
    write<T>(x, as_span<float>(observation));
  });
}

void NormalizeObservation::reset_impl(const std::optional<Seed>& seed, const Kwargs& options,
                                      std::span<std::byte> observation, Info& info) {
  const auto inner = inner_buffer(observation);
  env_->reset(inner, info, seed, options);
  normalize(inner, observation);
}

StepOutcome NormalizeObservation::step_impl(std::span<const std::byte> action,
                                            std::span<std::byte> observation, Info& info) {
  const auto inner = inner_buffer(observation);
  const StepOutcome outcome = env_->step(action, inner, info);
  normalize(inner, observation);
  return outcome;
}

}  // namespace locus::envs
