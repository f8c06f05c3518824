#pragma once
// What a knob does to the rate curve: multiply it (a change of gain, as arXiv 2507.03222 means
// it) or add to it (an upward shift, a lower threshold). A slope fitted on one input range cannot
// tell the two apart: a curve that rises steeply above threshold and then runs parallel to the
// reference has a "gain" of 1.85x on 500-3500 Hz and 1.00x on 2.5-10 kHz. So the condition's
// curve c is fitted against the reference curve r at the same inputs, by three least-squares
// models over a stated range:
//   shift only   c = r + s      (additive)
//   scale only   c = m r        (multiplicative)
//   both         c = m r + s
// and the knob's effect is the one-parameter model whose residual is clearly (1.25x) the smaller;
// "unclear" when neither is.

#include <cstddef>
#include <string>

#include "neuromod/spiking/experiments.hpp"

namespace locus::neuromod::spiking {

struct GainChange {
  // The inputs fitted (Hz of somatic input): those in [from, to] where both curves are at or
  // above the threshold rate.
  double fit_from = 0.0;
  double fit_to = 0.0;
  std::size_t points = 0;
  double shift_only = 0.0;      // s of the shift-only model (Hz): the mean difference
  double scale_only = 0.0;      // m of the scale-only model
  double shift_only_rms = 0.0;  // Hz: the residual of each one-parameter model
  double scale_only_rms = 0.0;
  double scale = 0.0;  // m and s of the two-parameter model
  double shift = 0.0;
  // "additive", "multiplicative" (the model whose residual is 1.25x smaller than the other's),
  // "unclear" (neither is), or "too few points" when fewer than 3 inputs are fitted (every number
  // then NaN).
  std::string kind;
};

// `condition` against `reference`, measured at the same inputs, over [from, to] (Hz of input).
// Throws InvalidArgumentError when the curves' inputs differ.
GainChange compare_gain(const GainCurve& condition, const GainCurve& reference,
                        double threshold_rate, double from, double to);

// One row of an experiment's table of changes: a condition against its reference.
struct GainComparison {
  std::string condition;
  std::string reference;
  GainChange change;
};

}  // namespace locus::neuromod::spiking
