#include "bench/harness/methods/lwf.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "bench/harness/errors.hpp"
#include "neuromod/checkpoint.hpp"

namespace locus::bench {

namespace nm = locus::neuromod;

void LwfConfig::validate() const {
  if (!(alpha >= 0.0) || !std::isfinite(alpha)) {
    throw InvalidArgumentError(fmt::format("lwf_alpha {} must be finite and >= 0", alpha));
  }
  if (!(temperature > 0.0) || !std::isfinite(temperature)) {
    throw InvalidArgumentError(
        fmt::format("lwf_temperature {} must be finite and > 0", temperature));
  }
}

LearningWithoutForgetting::LearningWithoutForgetting(LwfConfig config) : config_(config) {
  config_.validate();
}

void LearningWithoutForgetting::begin_task(const nm::Network& network,
                                           std::vector<std::size_t> units) {
  // A checkpoint's round trip is the network's exact copy: weights, contexts and gains.
  teacher_ =
      nm::decode_checkpoint(nm::encode_checkpoint(network), "LwF teacher", network.backend());
  teacher_->select_context(network.selected_context());
  units_ = std::move(units);
}

double LearningWithoutForgetting::add_distillation(const nm::Matrix& inputs,
                                                   const nm::Matrix& logits, std::int64_t rows,
                                                   nm::Matrix& gradient) {
  if (!active()) return 0.0;
  const nm::Matrix* current = &inputs;
  if (static_cast<std::size_t>(rows) != inputs.shape(0)) {
    const std::size_t cols = inputs.shape(1);
    if (rows_.shape(0) != static_cast<std::size_t>(rows) || rows_.shape(1) != cols) {
      rows_.resize({static_cast<std::size_t>(rows), cols});
    }
    std::memcpy(rows_.data(), inputs.data(), static_cast<std::size_t>(rows) * cols * sizeof(float));
    current = &rows_;
  }
  const nm::Matrix& teacher = teacher_->forward(*current).front();
  return distillation_loss(logits, teacher, rows, units_, config_.temperature, config_.alpha,
                           gradient);
}

double distillation_loss(const nm::Matrix& student, const nm::Matrix& teacher, std::int64_t rows,
                         const std::vector<std::size_t>& units, double temperature, double alpha,
                         nm::Matrix& gradient) {
  if (rows < 1 || static_cast<std::size_t>(rows) > std::min(student.shape(0), teacher.shape(0)) ||
      gradient.shape(0) != student.shape(0) || gradient.shape(1) != student.shape(1)) {
    throw InvalidArgumentError(
        fmt::format("distillation: {} rows do not fit the student's {} and teacher's {} rows (or "
                    "the gradient's shape differs from the student's)",
                    rows, student.shape(0), teacher.shape(0)));
  }
  for (const auto unit : units) {
    if (unit >= student.shape(1) || unit >= teacher.shape(1)) {
      throw InvalidArgumentError(
          fmt::format("distillation: unit {} outside the {} outputs", unit, student.shape(1)));
    }
  }
  const std::size_t k = units.size();
  std::vector<double> p(k), q(k);
  double loss = 0.0;
  const double scale = alpha / (static_cast<double>(rows) * temperature);
  // Softmax over the chosen units of z / T, shifted by the maximum for stability.
  const auto softmax = [&](const nm::Matrix& z, std::size_t row, std::vector<double>& out) {
    double top = -INFINITY;
    for (std::size_t j = 0; j < k; ++j) top = std::max(top, double(z(row, units[j])) / temperature);
    double sum = 0.0;
    for (std::size_t j = 0; j < k; ++j) {
      out[j] = std::exp(double(z(row, units[j])) / temperature - top);
      sum += out[j];
    }
    for (auto& v : out) v /= sum;
  };
  for (std::size_t r = 0; r < static_cast<std::size_t>(rows); ++r) {
    softmax(student, r, p);
    softmax(teacher, r, q);
    for (std::size_t j = 0; j < k; ++j) {
      if (q[j] > 0.0) loss += q[j] * (std::log(q[j]) - std::log(std::max(p[j], 1e-300)));
      // d KL / d z_j = (p_j - q_j) / T; the mean over rows and alpha scale it.
      gradient(r, units[j]) += static_cast<float>(scale * (p[j] - q[j]));
    }
  }
  return loss / static_cast<double>(rows);
}

}  // namespace locus::bench
