#include "agents/policy/gaussian_head.hpp"

#include <algorithm>
#include <cmath>

namespace locus::agents {
namespace {

constexpr double kLogSqrtTwoPi = 0.91893853320467274178;  // log(sqrt(2 pi))

}  // namespace

GaussianHead::GaussianHead(std::vector<double> low, std::vector<double> high, float init_log_std)
    : low_(std::move(low)),
      high_(std::move(high)),
      log_std_(low_.size(), init_log_std),
      log_std_gradient_(low_.size(), 0.0f) {}

float GaussianHead::sample(std::span<const float> outputs, AgentRandom& random,
                           std::span<float> action, double& entropy) const {
  double log_prob = 0.0;
  for (std::size_t d = 0; d < low_.size(); ++d) {
    const auto noise = static_cast<float>(random.normal());
    action[d] = outputs[d] + std::exp(log_std_[d]) * noise;
    log_prob += -0.5 * double(noise) * noise - log_std_[d] - kLogSqrtTwoPi;
    entropy += log_std_[d] + 0.5 + kLogSqrtTwoPi;
  }
  return static_cast<float>(log_prob);
}

void GaussianHead::greedy(std::span<const float> outputs, std::span<float> action) const {
  std::copy(outputs.begin(), outputs.end(), action.begin());
}

void GaussianHead::step(envs::VectorEnv& env, std::span<const float> actions) {
  const std::size_t width = low_.size();
  env_actions_.resize(actions.size());
  for (std::size_t i = 0; i < actions.size(); ++i) {
    const std::size_t d = i % width;
    env_actions_[i] = static_cast<float>(std::clamp<double>(actions[i], low_[d], high_[d]));
  }
  env.step(std::span<const float>(env_actions_));
}

void GaussianHead::log_probs(const Matrix& outputs, const Matrix& actions,
                             std::span<float> out) const {
  for (std::size_t k = 0; k < out.size(); ++k) {
    double log_prob = 0.0;
    for (std::size_t d = 0; d < low_.size(); ++d) {
      const double z = (actions(k, d) - double(outputs(k, d))) / std::exp(double(log_std_[d]));
      log_prob += -0.5 * z * z - log_std_[d] - kLogSqrtTwoPi;
    }
    out[k] = static_cast<float>(log_prob);
  }
}

void GaussianHead::add_log_prob_gradient(const Matrix& outputs, const Matrix& actions,
                                         std::span<const float> scale, Matrix& gradient) {
  // d log pi / d mu_d = z_d / std_d;  d log pi / d log_std_d = z_d^2 - 1.
  for (std::size_t k = 0; k < scale.size(); ++k) {
    for (std::size_t d = 0; d < low_.size(); ++d) {
      const double std_dev = std::exp(double(log_std_[d]));
      const double z = (actions(k, d) - double(outputs(k, d))) / std_dev;
      gradient(k, d) += static_cast<float>(scale[k] * z / std_dev);
      log_std_gradient_[d] += static_cast<float>(scale[k] * (z * z - 1.0));
    }
  }
}

double GaussianHead::entropy(const Matrix& /*outputs*/, float scale, Matrix& /*gradient*/) {
  // The entropy does not depend on the mean; d H / d log_std_d = 1.
  double entropy = 0.0;
  for (std::size_t d = 0; d < low_.size(); ++d) {
    entropy += log_std_[d] + 0.5 + kLogSqrtTwoPi;
    log_std_gradient_[d] += scale;
  }
  return entropy;
}

std::vector<HeadParameter> GaussianHead::parameters() {
  return {HeadParameter{"log_std", log_std_, log_std_gradient_}};
}

void GaussianHead::after_step() {
  for (float& v : log_std_) v = std::clamp(v, -5.0f, 2.0f);
}

}  // namespace locus::agents
