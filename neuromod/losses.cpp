#include "neuromod/losses.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "neuromod/errors.hpp"
#include "util/parallel.hpp"

namespace locus::neuromod {

namespace {

constexpr std::size_t kLossRowBlock = 32;

// body(row) for every row, in fixed blocks of rows (results written per row, so any thread count
// gives the same values).
template <typename Body>
void for_rows(std::size_t rows, const Body& body) {
  util::run_blocks((rows + kLossRowBlock - 1) / kLossRowBlock, [&](std::size_t b) {
    for (std::size_t r = b * kLossRowBlock; r < std::min(rows, (b + 1) * kLossRowBlock); ++r)
      body(r);
  });
}

void check_labels(const Matrix& logits, std::span<const std::int32_t> labels,
                  std::string_view what) {
  const std::size_t rows = logits.shape()[0], cols = logits.shape()[1];
  if (rows == 0 || cols == 0) {
    throw ShapeError(
        fmt::format("{}: logits have shape ({}, {}); both must be positive", what, rows, cols));
  }
  if (labels.size() != rows) {
    throw ShapeError(fmt::format("{}: {} labels for {} rows of logits", what, labels.size(), rows));
  }
  for (std::size_t r = 0; r < rows; ++r) {
    if (labels[r] < 0 || std::size_t(labels[r]) >= cols) {
      throw InvalidArgumentError(
          fmt::format("{}: label {} of row {} is outside [0, {})", what, labels[r], r, cols));
    }
  }
}

void check_same_shape(const Matrix& a, const Matrix& b, std::string_view what) {
  if (a.shape()[0] != b.shape()[0] || a.shape()[1] != b.shape()[1] || a.size() == 0) {
    throw ShapeError(
        fmt::format("{}: prediction ({}, {}) and target ({}, {}) must have the same "
                    "non-empty shape",
                    what, a.shape()[0], a.shape()[1], b.shape()[0], b.shape()[1]));
  }
}

// Softmax of one row in double: probabilities into `p`, returns log-sum-exp.
double softmax_row(const float* logits, std::size_t cols, double* p) {
  double most = logits[0];
  for (std::size_t j = 1; j < cols; ++j) most = std::max(most, double(logits[j]));
  double sum = 0.0;
  for (std::size_t j = 0; j < cols; ++j) {
    p[j] = std::exp(double(logits[j]) - most);
    sum += p[j];
  }
  for (std::size_t j = 0; j < cols; ++j) p[j] /= sum;
  return most + std::log(sum);
}

double unit_factor(EntropyUnit unit) {
  return unit == EntropyUnit::kBits ? 1.0 / std::numbers::ln2 : 1.0;
}

}  // namespace

std::string_view to_string(EntropyUnit unit) {
  return unit == EntropyUnit::kBits ? "bits" : "nats";
}

double softmax_cross_entropy(const Matrix& logits, std::span<const std::int32_t> labels,
                             Matrix* gradient) {
  check_labels(logits, labels, "softmax_cross_entropy");
  const std::size_t rows = logits.shape()[0], cols = logits.shape()[1];
  if (gradient && (gradient->shape()[0] != rows || gradient->shape()[1] != cols)) {
    gradient->resize({rows, cols});
  }
  std::vector<double> row_loss(rows);
  const float inv_rows = 1.0f / float(rows);
  for_rows(rows, [&](std::size_t r) {
    const float* z = logits.data() + r * cols;
    float most = z[0];
    for (std::size_t j = 1; j < cols; ++j) most = std::max(most, z[j]);
    float sum = 0.0f;
    for (std::size_t j = 0; j < cols; ++j) sum += std::exp(z[j] - most);
    const float log_sum = std::log(sum);
    row_loss[r] = double(most) + log_sum - z[labels[r]];
    if (gradient) {
      float* g = gradient->data() + r * cols;
      const float inv_sum = 1.0f / sum;
      for (std::size_t j = 0; j < cols; ++j) g[j] = std::exp(z[j] - most) * inv_sum * inv_rows;
      g[labels[r]] -= inv_rows;
    }
  });
  double total = 0.0;
  for (double l : row_loss) total += l;
  return total / double(rows);
}

double softmax_cross_entropy_reference(const Matrix& logits, std::span<const std::int32_t> labels,
                                       Matrix* gradient) {
  check_labels(logits, labels, "softmax_cross_entropy_reference");
  const std::size_t rows = logits.shape()[0], cols = logits.shape()[1];
  if (gradient) gradient->resize({rows, cols});
  std::vector<double> p(cols);
  double total = 0.0;
  for (std::size_t r = 0; r < rows; ++r) {
    const double log_sum = softmax_row(logits.data() + r * cols, cols, p.data());
    total += log_sum - logits(r, std::size_t(labels[r]));
    if (gradient) {
      for (std::size_t j = 0; j < cols; ++j) {
        const double onehot = j == std::size_t(labels[r]) ? 1.0 : 0.0;
        (*gradient)(r, j) = static_cast<float>((p[j] - onehot) / double(rows));
      }
    }
  }
  return total / double(rows);
}

double mean_squared_error(const Matrix& prediction, const Matrix& target, Matrix* gradient) {
  check_same_shape(prediction, target, "mean_squared_error");
  const std::size_t rows = prediction.shape()[0], cols = prediction.shape()[1];
  if (gradient && (gradient->shape()[0] != rows || gradient->shape()[1] != cols)) {
    gradient->resize({rows, cols});
  }
  const float scale = 2.0f / float(prediction.size());
  std::vector<double> row_loss(rows);
  for_rows(rows, [&](std::size_t r) {
    double sum = 0.0;
    for (std::size_t j = 0; j < cols; ++j) {
      const float d = prediction.data()[r * cols + j] - target.data()[r * cols + j];
      sum += double(d) * d;
      if (gradient) gradient->data()[r * cols + j] = scale * d;
    }
    row_loss[r] = sum;
  });
  double total = 0.0;
  for (double l : row_loss) total += l;
  return total / double(prediction.size());
}

double mean_squared_error_reference(const Matrix& prediction, const Matrix& target,
                                    Matrix* gradient) {
  check_same_shape(prediction, target, "mean_squared_error_reference");
  if (gradient) gradient->resize({prediction.shape()[0], prediction.shape()[1]});
  double total = 0.0;
  const double n = double(prediction.size());
  for (std::size_t i = 0; i < prediction.size(); ++i) {
    const double d = double(prediction.data()[i]) - target.data()[i];
    total += d * d;
    if (gradient) gradient->data()[i] = static_cast<float>(2.0 * d / n);
  }
  return total / n;
}

double mean_softmax_entropy(const Matrix& logits, EntropyUnit unit) {
  const std::size_t rows = logits.shape()[0], cols = logits.shape()[1];
  if (rows == 0 || cols == 0) {
    throw ShapeError(
        fmt::format("mean_softmax_entropy: logits have shape ({}, {}); both must be "
                    "positive",
                    rows, cols));
  }
  std::vector<double> row_entropy(rows);
  for_rows(rows, [&](std::size_t r) {
    const float* z = logits.data() + r * cols;
    float most = z[0];
    for (std::size_t j = 1; j < cols; ++j) most = std::max(most, z[j]);
    double sum = 0.0, weighted = 0.0;
    for (std::size_t j = 0; j < cols; ++j) {
      const double shifted = double(z[j]) - most;
      const double e = std::exp(shifted);
      sum += e;
      weighted += e * shifted;
    }
    // H = log(sum) - sum_j p_j * shifted_j
    row_entropy[r] = std::log(sum) - weighted / sum;
  });
  double total = 0.0;
  for (double h : row_entropy) total += h;
  return total / double(rows) * unit_factor(unit);
}

double mean_softmax_entropy_reference(const Matrix& logits, EntropyUnit unit) {
  const std::size_t rows = logits.shape()[0], cols = logits.shape()[1];
  if (rows == 0 || cols == 0) throw ShapeError("mean_softmax_entropy_reference: empty logits");
  std::vector<double> p(cols);
  double total = 0.0;
  for (std::size_t r = 0; r < rows; ++r) {
    softmax_row(logits.data() + r * cols, cols, p.data());
    for (double q : p) {
      if (q > 0) total -= q * std::log(q);
    }
  }
  return total / double(rows) * unit_factor(unit);
}

std::size_t count_correct(const Matrix& logits, std::span<const std::int32_t> labels) {
  check_labels(logits, labels, "count_correct");
  const std::size_t rows = logits.shape()[0], cols = logits.shape()[1];
  std::size_t correct = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* z = logits.data() + r * cols;
    const auto best = std::size_t(std::max_element(z, z + cols) - z);
    if (best == std::size_t(labels[r])) ++correct;
  }
  return correct;
}

std::vector<float> log_probabilities(const Matrix& logits, std::span<const std::int32_t> actions) {
  check_labels(logits, actions, "log_probabilities");
  const std::size_t rows = logits.shape()[0], cols = logits.shape()[1];
  std::vector<double> p(cols);
  std::vector<float> result(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    const double log_sum = softmax_row(logits.data() + r * cols, cols, p.data());
    result[r] = static_cast<float>(logits(r, std::size_t(actions[r])) - log_sum);
  }
  return result;
}

ActorCriticLoss actor_critic_loss(const Matrix& policy_logits, const Matrix& values,
                                  std::span<const std::int32_t> actions,
                                  std::span<const float> advantages, std::span<const float> returns,
                                  std::span<const float> old_log_probs,
                                  const ActorCriticCoefficients& coefficients,
                                  Matrix* policy_gradient, Matrix* value_gradient) {
  check_labels(policy_logits, actions, "actor_critic_loss");
  const std::size_t rows = policy_logits.shape()[0], cols = policy_logits.shape()[1];
  if (values.shape()[0] != rows || values.shape()[1] != 1) {
    throw ShapeError(fmt::format("actor_critic_loss: values have shape ({}, {}); expected ({}, 1)",
                                 values.shape()[0], values.shape()[1], rows));
  }
  if (advantages.size() != rows || returns.size() != rows ||
      (!old_log_probs.empty() && old_log_probs.size() != rows)) {
    throw ShapeError(
        fmt::format("actor_critic_loss: {} rows but {} advantages, {} returns, {} old "
                    "log-probabilities (0 for A2C)",
                    rows, advantages.size(), returns.size(), old_log_probs.size()));
  }
  const bool ppo = !old_log_probs.empty() && coefficients.clip_epsilon > 0;
  if (policy_gradient) policy_gradient->resize({rows, cols});
  if (value_gradient) value_gradient->resize({rows, std::size_t{1}});
  ActorCriticLoss loss;
  std::vector<double> p(cols);
  const double inv_rows = 1.0 / double(rows);
  const double eps = coefficients.clip_epsilon;
  std::size_t clipped = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    const double log_sum = softmax_row(policy_logits.data() + r * cols, cols, p.data());
    const std::size_t a = std::size_t(actions[r]);
    const double log_prob = policy_logits(r, a) - log_sum;
    const double advantage = advantages[r];
    double entropy = 0.0;
    for (double q : p) {
      if (q > 0) entropy -= q * std::log(q);
    }
    // d(policy term)/d(log pi(a)) for this row
    double policy_slope;
    if (ppo) {
      const double ratio = std::exp(log_prob - old_log_probs[r]);
      const double clipped_ratio = std::clamp(ratio, 1.0 - eps, 1.0 + eps);
      const double unclipped_term = ratio * advantage, clipped_term = clipped_ratio * advantage;
      const bool use_unclipped = unclipped_term <= clipped_term;
      loss.policy -= std::min(unclipped_term, clipped_term);
      policy_slope = use_unclipped ? -ratio * advantage : 0.0;
      if (!use_unclipped) ++clipped;
      loss.approx_kl += old_log_probs[r] - log_prob;
    } else {
      loss.policy -= advantage * log_prob;
      policy_slope = -advantage;
    }
    loss.entropy += entropy;
    const double v = values(r, 0);
    const double error = v - returns[r];
    loss.value += error * error;
    if (policy_gradient) {
      for (std::size_t j = 0; j < cols; ++j) {
        const double onehot = j == a ? 1.0 : 0.0;
        const double log_p = p[j] > 0 ? std::log(p[j]) : 0.0;
        // -entropy_coef * dH/dz_j = entropy_coef * p_j (log p_j + H)
        const double g =
            policy_slope * (onehot - p[j]) + coefficients.entropy_coef * p[j] * (log_p + entropy);
        (*policy_gradient)(r, j) = static_cast<float>(g * inv_rows);
      }
    }
    if (value_gradient) {
      (*value_gradient)(r, 0) =
          static_cast<float>(2.0 * coefficients.value_coef * error * inv_rows);
    }
  }
  loss.policy *= inv_rows;
  loss.value *= inv_rows;
  loss.entropy *= inv_rows;
  loss.approx_kl *= inv_rows;
  loss.clip_fraction = double(clipped) * inv_rows;
  loss.total =
      loss.policy + coefficients.value_coef * loss.value - coefficients.entropy_coef * loss.entropy;
  return loss;
}

}  // namespace locus::neuromod
