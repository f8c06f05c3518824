#include "envs/cognitive/trial_timeline.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "envs/errors.hpp"

namespace locus::envs {

namespace {

std::string number_text(double value) {
  return nlohmann::json(value).dump();
}

std::string accepted_duration_forms() {
  return "a number of milliseconds, a list of numbers, [\"uniform\", [low, high]], [\"choice\", "
         "[values...]], [\"constant\", value] or [\"truncated_exponential\", [mean, min, max]]";
}

}  // namespace

// ---- PeriodDuration ----

PeriodDuration PeriodDuration::constant(double ms) {
  return PeriodDuration(Kind::kConstant, {ms});
}

PeriodDuration PeriodDuration::truncated_exponential(double mean, double min, double max) {
  return PeriodDuration(Kind::kTruncatedExponential, {mean, min, max});
}

PeriodDuration PeriodDuration::parse(const Kwargs& value, const std::string& where) {
  const auto bad = [&](const std::string& why) {
    return InvalidArgumentError(where + ": " + why + " (got " + value.dump() +
                                "; accepted: " + accepted_duration_forms() + ")");
  };
  const auto duration = [&](const Kwargs& v) {
    if (!v.is_number()) throw bad("a duration must be a number");
    const double d = v.get<double>();
    if (!std::isfinite(d) || d < 0) throw bad("a duration must be finite and non-negative");
    return d;
  };
  if (value.is_number()) return constant(duration(value));
  if (!value.is_array() || value.empty()) throw bad("not a duration");
  if (value[0].is_number()) {  // a list of numbers: NeuroGym picks one uniformly
    std::vector<double> choices;
    for (const auto& v : value) choices.push_back(duration(v));
    return PeriodDuration(Kind::kChoice, std::move(choices));
  }
  if (!value[0].is_string() || value.size() != 2) {
    throw bad("expected a number, a list of numbers or [distribution, arguments]");
  }
  const std::string dist = value[0].get<std::string>();
  const Kwargs& args = value[1];
  if (dist == "constant") {
    if (args.is_array() && args.size() == 1) return constant(duration(args[0]));
    return constant(duration(args));
  }
  if (!args.is_array() || args.empty()) throw bad("the arguments of '" + dist + "' must be a list");
  if (dist == "uniform") {
    if (args.size() != 2) throw bad("'uniform' takes [low, high]");
    const double low = duration(args[0]);
    const double high = duration(args[1]);
    if (low > high) throw bad("'uniform' needs low <= high");
    return PeriodDuration(Kind::kUniform, {low, high});
  }
  if (dist == "choice") {
    std::vector<double> choices;
    for (const auto& v : args) choices.push_back(duration(v));
    return PeriodDuration(Kind::kChoice, std::move(choices));
  }
  if (dist == "truncated_exponential") {
    if (args.size() > 3) throw bad("'truncated_exponential' takes [mean, min, max]");
    const double mean = duration(args[0]);
    if (!(mean > 0)) throw bad("'truncated_exponential' needs a positive mean");
    const double min = args.size() > 1 ? duration(args[1]) : 0.0;
    double max = std::numeric_limits<double>::infinity();
    if (args.size() > 2) {
      if (!args[2].is_number() || !(args[2].get<double>() >= 0)) {
        throw bad("'truncated_exponential' needs a non-negative max");
      }
      max = args[2].get<double>();
    }
    return truncated_exponential(mean, min, max);
  }
  throw bad("unknown distribution '" + dist + "'");
}

double PeriodDuration::sample(Rng& rng) const {
  switch (kind_) {
    case Kind::kConstant:
      return values_[0];
    case Kind::kUniform:
      return rng.uniform(values_[0], values_[1]);
    case Kind::kChoice:
      return values_[static_cast<std::size_t>(rng.integers(std::ssize(values_)))];
    case Kind::kTruncatedExponential: {
      const double mean = values_[0];
      const double min = values_[1];
      const double max = values_[2];
      // NeuroGym's TruncExp: min >= max gives max; otherwise redraw until min <= x < max.
      if (min >= max) return max;
      for (;;) {
        const double x = rng.exponential(mean);
        if (min <= x && x < max) return x;
      }
    }
  }
  return values_[0];
}

double PeriodDuration::min() const {
  switch (kind_) {
    case Kind::kChoice:
      return *std::min_element(values_.begin(), values_.end());
    case Kind::kTruncatedExponential:
      return values_[1] >= values_[2] ? values_[2] : values_[1];
    case Kind::kConstant:
    case Kind::kUniform:
      break;
  }
  return values_[0];
}

nlohmann::json PeriodDuration::to_json() const {
  switch (kind_) {
    case Kind::kConstant:
      return values_[0];
    case Kind::kUniform:
      return nlohmann::json::array({"uniform", values_});
    case Kind::kChoice:
      return nlohmann::json::array({"choice", values_});
    case Kind::kTruncatedExponential: {
      nlohmann::json args = nlohmann::json::array({values_[0], values_[1]});
      args.push_back(std::isfinite(values_[2]) ? nlohmann::json(values_[2]) : nlohmann::json());
      return nlohmann::json::array({"truncated_exponential", args});
    }
  }
  return nullptr;
}

double python_floor_divide(double a, double b) {
  // CPython's float_floor_div (Objects/floatobject.c, float_divmod), step for step.
  double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0.0) {
    if ((b < 0) != (mod < 0)) div -= 1.0;
  }
  if (div != 0.0) {
    double floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
    return floordiv;
  }
  return std::copysign(0.0, a / b);
}

// ---- TrialTimeline ----

TrialTimeline::TrialTimeline(std::string context, double dt, std::vector<Period> periods,
                             const Kwargs* timing)
    : context_(std::move(context)), dt_(dt), periods_(std::move(periods)) {
  if (!std::isfinite(dt_) || !(dt_ > 0)) {
    throw InvalidArgumentError(context_ + ": 'dt' must be a positive number of milliseconds, got " +
                               number_text(dt_));
  }
  if (timing != nullptr) {
    for (const auto& [key, value] : timing->items()) {
      const std::size_t p = find(key);
      if (p == kNoPeriod) {
        std::string names;
        for (const auto& period : periods_) names += (names.empty() ? "" : ", ") + period.name;
        throw InvalidArgumentError(context_ + ": 'timing' has an unknown period '" + key +
                                   "' (periods: " + names + ")");
      }
      periods_[p].duration = PeriodDuration::parse(value, context_ + ": timing '" + key + "'");
    }
  }
  // Fixed durations are floored to steps once; sample() only draws the random ones.
  fixed_steps_.assign(periods_.size(), -1);
  all_fixed_ = true;
  for (std::size_t p = 0; p < periods_.size(); ++p) {
    if (periods_[p].duration.kind() == PeriodDuration::Kind::kConstant) {
      fixed_steps_[p] = static_cast<std::int64_t>(
          python_floor_divide(periods_[p].duration.sample_constant(), dt_));
    } else {
      all_fixed_ = false;
    }
  }
  end_.assign(periods_.size(), 0);
  if (all_fixed_) fill_ends(nullptr);
}

void TrialTimeline::fill_ends(Rng* rng) {
  std::int64_t end = 0;
  for (std::size_t p = 0; p < periods_.size(); ++p) {
    // NeuroGym's sample_time: (t // dt) * dt, i.e. whole steps, rounded down.
    end += fixed_steps_[p] >= 0 ? fixed_steps_[p]
                                : static_cast<std::int64_t>(
                                      python_floor_divide(periods_[p].duration.sample(*rng), dt_));
    end_[p] = end;
  }
  length_ = end;
  if (length_ <= 0) {
    throw InvalidArgumentError(context_ +
                               ": a trial drew a total duration shorter than one step of " +
                               number_text(dt_) + " ms; lengthen the periods or shorten 'dt'");
  }
}

std::size_t TrialTimeline::find(std::string_view name) const {
  for (std::size_t p = 0; p < periods_.size(); ++p) {
    if (periods_[p].name == name) return p;
  }
  return kNoPeriod;
}

std::int64_t TrialTimeline::min_steps(std::size_t period) const {
  return static_cast<std::int64_t>(python_floor_divide(periods_[period].duration.min(), dt_));
}

void TrialTimeline::sample(Rng& rng) {
  if (!all_fixed_) fill_ends(&rng);
  step_ = 0;
  period_ = 0;
  while (period_ < end_.size() && end_[period_] == 0) ++period_;
}

}  // namespace locus::envs
