#include "neuromod/noradrenaline.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "neuromod/errors.hpp"

namespace locus::neuromod {

std::string_view to_string(UncertaintySource source) {
  return source == UncertaintySource::kEntropy ? "entropy" : "surprise";
}

void NoradrenalineConfig::validate() const {
  auto unit_interval = [](float v, std::string_view name, bool allow_zero) {
    if (!(v <= 1.0f && (allow_zero ? v >= 0.0f : v > 0.0f))) {
      throw InvalidArgumentError(fmt::format("noradrenaline: {} = {} must be in {}1]", name, v,
                                             allow_zero ? "[0, " : "(0, "));
    }
  };
  unit_interval(rise_rate, "rise_rate", false);
  unit_interval(decay_rate, "decay_rate", true);
  unit_interval(stats_rate, "stats_rate", false);
  if (!(min_gain <= baseline_gain && baseline_gain <= max_gain) || !std::isfinite(max_gain) ||
      !std::isfinite(min_gain)) {
    throw InvalidArgumentError(
        fmt::format("noradrenaline: need finite min_gain <= baseline_gain <= "
                    "max_gain; got {} <= {} <= {}",
                    min_gain, baseline_gain, max_gain));
  }
  if (!std::isfinite(sensitivity) || !std::isfinite(change_threshold) ||
      !std::isfinite(surprise_deadzone)) {
    throw InvalidArgumentError(
        "noradrenaline: sensitivity, surprise_deadzone and change_threshold must be finite");
  }
}

NoradrenalineSignal::NoradrenalineSignal(const NoradrenalineConfig& config)
    : config_(config), gain_(config.baseline_gain) {
  config_.validate();
}

void NoradrenalineSignal::reset() {
  gain_ = config_.baseline_gain;
  count_ = 0;
  mean_ = variance_ = 0.0;
  last_flag_ = 0;
  last_change_ = false;
  trace_.clear();
  changes_.clear();
}

NoradrenalineReading NoradrenalineSignal::observe(double x, std::size_t classes) {
  if (!std::isfinite(x) || x < 0) {
    throw NonFiniteError(
        fmt::format("noradrenaline: observation {} must be finite and >= 0 (an "
                    "entropy or |TD error|)",
                    x));
  }
  NoradrenalineReading reading;
  reading.step = ++count_;
  reading.input = x;
  // z against the observations before this one.
  reading.z = count_ > 1 ? (x - mean_) / std::sqrt(variance_ + 1e-8) : 0.0;
  // Exact running moments while the sample is short, exponential ones afterwards.
  const double rate = std::max(double(config_.stats_rate), 1.0 / double(count_));
  const double diff = x - mean_;
  mean_ += rate * diff;
  variance_ = (1.0 - rate) * (variance_ + rate * diff * diff);
  if (config_.source == UncertaintySource::kEntropy) {
    // The largest possible entropy over `classes` outcomes, in the signal's unit.
    const double max_entropy = classes < 2 ? 1.0
                               : config_.entropy_unit == EntropyUnit::kBits
                                   ? std::log2(double(classes))
                                   : std::log(double(classes));
    reading.drive = x / max_entropy;
  } else {
    reading.drive = std::max(0.0, reading.z - double(config_.surprise_deadzone));
  }
  const double target =
      std::clamp(double(config_.baseline_gain) + config_.sensitivity * reading.drive,
                 double(config_.min_gain), double(config_.max_gain));
  const double rate_to_target = target > gain_ ? config_.rise_rate : config_.decay_rate;
  gain_ = static_cast<float>(gain_ + rate_to_target * (target - gain_));
  reading.gain = gain_;
  const bool armed =
      count_ > config_.warmup && (last_flag_ == 0 || count_ - last_flag_ >= config_.refractory);
  reading.change = armed && reading.z >= config_.change_threshold;
  if (reading.change) {
    last_flag_ = count_;
    changes_.push_back(count_);
  }
  last_change_ = reading.change;
  if (config_.record_trace) trace_.push_back(reading);
  return reading;
}

NoradrenalineReading NoradrenalineSignal::observe_td_error(float delta) {
  if (config_.source != UncertaintySource::kSurprise) {
    throw InvalidArgumentError(
        "noradrenaline: observe_td_error needs source surprise; this "
        "signal is driven by entropy (use observe_logits)");
  }
  return observe(std::fabs(double(delta)));
}

NoradrenalineReading NoradrenalineSignal::observe_logits(const Matrix& logits) {
  if (config_.source != UncertaintySource::kEntropy) {
    throw InvalidArgumentError(
        "noradrenaline: observe_logits needs source entropy; this signal "
        "is driven by surprise (use observe_td_error)");
  }
  return observe(mean_softmax_entropy(logits, config_.entropy_unit), logits.shape()[1]);
}

void NoradrenalineSignal::apply(Network& network) const {
  apply_weight_gain(network, config_.target, gain_);
}

}  // namespace locus::neuromod
