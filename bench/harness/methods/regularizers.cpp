#include "bench/harness/methods/regularizers.hpp"

#include <fmt/format.h>

#include "bench/harness/errors.hpp"

namespace locus::bench {

namespace nm = locus::neuromod;

void RegularizerConfig::validate() const {
  ewc.validate();
  mas.validate();
  si.validate();
  lwf.validate();
  if (ewc_batches < 0 || mas_batches < 0) {
    throw InvalidArgumentError(
        fmt::format("ewc_batches {} and mas_batches {} must be >= 0", ewc_batches, mas_batches));
  }
}

Regularizers::Regularizers(const RegularizerConfig& config) : config_(config) {
  config_.validate();
  if (config_.ewc.lambda > 0) ewc_.emplace(config_.ewc);
  if (config_.mas.lambda > 0) mas_.emplace(config_.mas);
  if (config_.si.c > 0) si_.emplace(config_.si);
  if (config_.lwf.alpha > 0) lwf_.emplace(config_.lwf);
}

void Regularizers::begin_task(nm::Network& network, std::int64_t task, const TaskBatches& batches,
                              std::vector<std::size_t> seen_units) {
  if (task > 0) {
    if (ewc_) ewc_->consolidate(network, batches(task - 1, config_.ewc_batches));
    if (mas_) mas_->consolidate(network, batches(task - 1, config_.mas_batches));
    if (si_) si_->end_task(network);
    if (lwf_) lwf_->begin_task(network, std::move(seen_units));
  }
  if (si_) si_->begin_task(network);
}

double Regularizers::add_distillation(const nm::Matrix& inputs, const nm::Matrix& logits,
                                      std::int64_t rows, nm::Matrix& gradient) {
  if (!lwf_) return 0.0;
  return config_.lwf.alpha * lwf_->add_distillation(inputs, logits, rows, gradient);
}

void Regularizers::before_step(nm::Network& network) {
  if (si_) {
    si_->record_gradient(network);
    si_->add_penalty_gradient(network);
  }
  if (ewc_) ewc_->add_penalty_gradient(network);
  if (mas_) mas_->add_penalty_gradient(network);
}

void Regularizers::after_step(const nm::Network& network) {
  if (si_) si_->record_step(network);
}

}  // namespace locus::bench
