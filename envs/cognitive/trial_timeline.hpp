#pragma once
// The period machinery shared by the cognitive tasks (what NeuroGym's TrialEnv does with its
// `timing` dict, add_period and in_period): each trial is a sequence of named periods whose
// durations, in milliseconds, are fixed or drawn per trial, floored to whole steps of dt; a cursor
// walks through them one step at a time.
//
// Durations are kept as whole steps, so "is step k in period p" is an integer comparison. NeuroGym
// keeps times in milliseconds and compares floats; both agree whenever dt and the durations are
// whole milliseconds (floats hold such sums exactly), which covers every default and every sensible
// setting.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "envs/env.hpp"

namespace locus::envs {

class StateReader;

// The duration of one period in milliseconds, as NeuroGym's timing values: a number (fixed), a list
// of numbers (one of them, uniformly), ["uniform", [low, high]], ["choice", [values...]],
// ["constant", value] or ["truncated_exponential", [mean, min, max]] (min and max optional; an
// exponential redrawn until it falls in [min, max), NeuroGym's TruncExp).
class PeriodDuration {
 public:
  enum class Kind { kConstant, kUniform, kChoice, kTruncatedExponential };

  static PeriodDuration constant(double ms);
  static PeriodDuration truncated_exponential(double mean, double min, double max);
  // Throws InvalidArgumentError naming `where` and the accepted forms.
  static PeriodDuration parse(const Kwargs& value, const std::string& where);

  Kind kind() const { return kind_; }
  // Milliseconds, drawn from rng when the duration is random (nothing drawn when fixed).
  double sample(Rng& rng) const;
  // The value of a kConstant duration.
  double sample_constant() const { return values_[0]; }
  // The smallest value sample() can return.
  double min() const;
  nlohmann::json to_json() const;

 private:
  PeriodDuration(Kind kind, std::vector<double> values) : kind_(kind), values_(std::move(values)) {}
  Kind kind_ = Kind::kConstant;
  std::vector<double> values_;
};

// Python's float floor division a // b (CPython's float_floor_div), which NeuroGym uses to round
// durations down to multiples of dt: (t // dt) * dt.
double python_floor_divide(double a, double b);

class TrialTimeline {
 public:
  static constexpr std::size_t kNoPeriod = static_cast<std::size_t>(-1);

  struct Period {
    std::string name;
    PeriodDuration duration;
  };

  // `periods` in trial order with their default durations; `timing` (may be null) overrides some of
  // them by name, as NeuroGym's `timing` argument does. Throws InvalidArgumentError for a bad dt,
  // an unknown period name or a malformed duration.
  TrialTimeline(std::string context, double dt, std::vector<Period> periods, const Kwargs* timing);

  double dt() const { return dt_; }
  std::size_t size() const { return periods_.size(); }
  const std::string& name(std::size_t period) const { return periods_[period].name; }
  const PeriodDuration& duration(std::size_t period) const { return periods_[period].duration; }
  // The index of a period, or kNoPeriod.
  std::size_t find(std::string_view name) const;
  // Steps a period can last at least (its shortest duration floored to dt).
  std::int64_t min_steps(std::size_t period) const;

  // Starts a trial: draws every random duration (in period order) and puts the cursor on step 0.
  // Throws InvalidArgumentError when the trial has no step at all (at construction already when
  // every duration is fixed).
  void sample(Rng& rng);

  // The trial drawn last: its length and each period's [start, end) in steps.
  std::int64_t length() const { return length_; }
  std::int64_t start(std::size_t period) const { return period == 0 ? 0 : end_[period - 1]; }
  std::int64_t end(std::size_t period) const { return end_[period]; }

  // The cursor: the current step and the period that contains it (kNoPeriod once the trial is
  // over). Zero-length periods contain no step, as NeuroGym's start <= t < end.
  std::int64_t step() const { return step_; }
  std::size_t period() const { return period_; }
  bool finished() const { return step_ >= length_; }
  // The trial drawn last and the cursor, for TrialEnv's saved state: {"ends", "step"}.
  nlohmann::json save_state() const;
  // Checks them against this timeline (fixed periods keep their lengths, ends never decrease)
  // before setting anything; throws InvalidArgumentError through `reader`.
  void restore_state(const StateReader& reader);
  void advance() {
    ++step_;
    while (period_ < end_.size() && step_ >= end_[period_]) ++period_;
    if (period_ >= end_.size()) period_ = kNoPeriod;
  }

 private:
  void fill_ends(Rng* rng);  // rng may be null when every duration is fixed

  std::string context_;
  double dt_;
  std::vector<Period> periods_;
  std::vector<std::int64_t> fixed_steps_;  // (periods,) steps of a fixed duration, -1 if random
  bool all_fixed_ = true;
  std::vector<std::int64_t> end_;  // (periods,) cumulative end step of each period
  std::int64_t length_ = 0;
  std::int64_t step_ = 0;
  std::size_t period_ = kNoPeriod;
};

}  // namespace locus::envs
