#pragma once
// The quiet NaN that stands for "not measured" in metrics and state read-outs (a missing accuracy,
// a gap with no baseline, a neuron without that compartment).

#include <limits>

namespace locus::util {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace locus::util
