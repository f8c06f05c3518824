#pragma once
// numpy's scalar x**2, bit for bit, for the classic-control twins.
//
// numpy computes a float64 scalar's x**2 with libm's pow, which glibc rounds to within 0.52 ulp
// but not always to the same double as x*x; GCC folds pow(x, 2.0) into x*x, so the exponent is
// made opaque to keep libm's rounding. numpy's float32 scalar x**2 is powf, likewise.

#include <cmath>

namespace locus::envs {

inline double numpy_square(double x) {
  volatile double two = 2.0;
  return std::pow(x, two);
}

inline float numpy_square(float x) {
  volatile float two = 2.0F;
  return std::pow(x, two);
}

}  // namespace locus::envs
