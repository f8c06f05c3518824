#include "agents/policy/categorical_head.hpp"

#include <algorithm>
#include <cmath>

namespace locus::agents {
namespace {

// Softmax of one row with its maximum subtracted, in doubles; returns log of the normalizer
// (log-sum-exp minus the maximum) and writes the probabilities.
double softmax(std::span<const float> logits, std::span<double> probabilities, float& max_logit) {
  max_logit = *std::max_element(logits.begin(), logits.end());
  double total = 0.0;
  for (std::size_t a = 0; a < logits.size(); ++a) {
    probabilities[a] = std::exp(double(logits[a]) - max_logit);
    total += probabilities[a];
  }
  for (double& p : probabilities) p /= total;
  return std::log(total);
}

double entropy_of(std::span<const double> probabilities) {
  double entropy = 0.0;
  for (double p : probabilities) {
    if (p > 0) entropy -= p * std::log(p);
  }
  return entropy;
}

}  // namespace

CategoricalHead::CategoricalHead(std::size_t classes, std::int64_t first)
    : classes_(classes), first_(first), probabilities_(classes) {}

float CategoricalHead::sample(std::span<const float> outputs, AgentRandom& random,
                              std::span<float> action, double& entropy) const {
  std::vector<double>& p = probabilities_;  // reused: sampling runs for every env at every step
  float max_logit = 0.0f;
  const double log_total = softmax(outputs, p, max_logit);
  // Inverse CDF with one uniform.
  const double u = random.uniform();
  double cumulative = 0.0;
  std::size_t chosen = classes_ - 1;
  for (std::size_t a = 0; a < classes_; ++a) {
    cumulative += p[a];
    if (u < cumulative) {
      chosen = a;
      break;
    }
  }
  entropy += entropy_of(p);
  action[0] = static_cast<float>(chosen);
  return static_cast<float>(double(outputs[chosen]) - max_logit - log_total);
}

void CategoricalHead::greedy(std::span<const float> outputs, std::span<float> action) const {
  // Ties go to the first maximum, as numpy's argmax.
  action[0] =
      static_cast<float>(std::max_element(outputs.begin(), outputs.end()) - outputs.begin());
}

void CategoricalHead::step(envs::VectorEnv& env, std::span<const float> actions) {
  env_actions_.resize(actions.size());
  for (std::size_t i = 0; i < actions.size(); ++i) {
    env_actions_[i] = first_ + static_cast<std::int64_t>(actions[i]);
  }
  env.step(std::span<const std::int64_t>(env_actions_));
}

void CategoricalHead::log_probs(const Matrix& outputs, const Matrix& actions,
                                std::span<float> out) const {
  std::vector<double> p(classes_);
  for (std::size_t k = 0; k < out.size(); ++k) {
    float max_logit = 0.0f;
    const auto logits = matrix_row(outputs, k);
    const double log_total = softmax(logits, p, max_logit);
    const auto a = static_cast<std::size_t>(actions(k, 0));
    out[k] = static_cast<float>(double(logits[a]) - max_logit - log_total);
  }
}

void CategoricalHead::add_log_prob_gradient(const Matrix& outputs, const Matrix& actions,
                                            std::span<const float> scale, Matrix& gradient) {
  // d log softmax(z)_a / d z_j = [j == a] - p_j.
  std::vector<double> p(classes_);
  for (std::size_t k = 0; k < scale.size(); ++k) {
    float max_logit = 0.0f;
    softmax(matrix_row(outputs, k), p, max_logit);
    const auto a = static_cast<std::size_t>(actions(k, 0));
    for (std::size_t j = 0; j < classes_; ++j) {
      gradient(k, j) += static_cast<float>(scale[k] * ((j == a ? 1.0 : 0.0) - p[j]));
    }
  }
}

double CategoricalHead::entropy(const Matrix& outputs, float scale, Matrix& gradient) {
  // dH / d z_j = -p_j (log p_j + H).
  const std::size_t rows = outputs.shape()[0];
  std::vector<double> p(classes_);
  double sum = 0.0;
  for (std::size_t k = 0; k < rows; ++k) {
    float max_logit = 0.0f;
    softmax(matrix_row(outputs, k), p, max_logit);
    const double h = entropy_of(p);
    sum += h;
    for (std::size_t j = 0; j < classes_; ++j) {
      const double log_p = p[j] > 0 ? std::log(p[j]) : 0.0;
      gradient(k, j) += static_cast<float>(scale * (-p[j] * (log_p + h)) / double(rows));
    }
  }
  return sum / double(rows);
}

}  // namespace locus::agents
