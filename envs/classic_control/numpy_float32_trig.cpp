#include "envs/classic_control/numpy_float32_trig.hpp"

#include <cmath>
#include <cstdint>

namespace locus::envs {

namespace {

enum class Trig { kSin, kCos };

// cos(r) for r in [-pi/4, pi/4], a polynomial in r^2 (numpy's coefficients).
float cosine_polynomial(float r2) {
  float p = std::fma(0x1.98e616p-16F, r2, -0x1.6c06dcp-10F);
  p = std::fma(p, r2, 0x1.55553cp-05F);
  p = std::fma(p, r2, -0x1.000000p-01F);
  return std::fma(p, r2, 0x1.000000p+00F);
}

// sin(r) for r in [-pi/4, pi/4]: r + r^3 * q(r^2).
float sine_polynomial(float r, float r2) {
  float p = std::fma(0x1.7d3bbcp-19F, r2, -0x1.a06bbap-13F);
  p = std::fma(p, r2, 0x1.11119ap-07F);
  p = std::fma(p, r2, -0x1.555556p-03F);
  p = p * r2;
  return std::fma(p, r, r);
}

float numpy_sincos_float32(float x, Trig trig) {
  if (std::isnan(x)) return x;
  // Beyond these the three-part reduction loses digits; numpy hands such lanes to libm.
  const float cody_waite_limit = trig == Trig::kCos ? 71476.0625F : 117435.992F;
  if (!(std::fabs(x) <= cody_waite_limit)) return trig == Trig::kCos ? std::cos(x) : std::sin(x);

  // The nearest quadrant: x * 2/pi rounded to an integer by adding and removing 1.5 * 2^23, the
  // product fused into the addition as numpy's build does.
  constexpr float kRoundingMagic = 0x1.800000p+23F;
  const float quadrant = std::fma(x, 0x1.45f306p-1F, kRoundingMagic) - kRoundingMagic;
  // x - quadrant * pi/2, with pi/2 split into three parts so that no digit of x is lost.
  float reduced = std::fma(quadrant, -0x1.921fb0p+00F, x);
  reduced = std::fma(quadrant, -0x1.5110b4p-22F, reduced);
  reduced = std::fma(quadrant, -0x1.846988p-48F, reduced);
  const float reduced2 = reduced * reduced;

  // cos(x) = sin(x + pi/2): one quadrant further along.
  const auto turn = static_cast<std::int32_t>(quadrant) + (trig == Trig::kCos ? 1 : 0);
  const float value =
      (turn & 1) == 0 ? sine_polynomial(reduced, reduced2) : cosine_polynomial(reduced2);
  return (turn & 2) != 0 ? 0.0F - value : value;
}

}  // namespace

float numpy_sin_float32(float x) {
  return numpy_sincos_float32(x, Trig::kSin);
}

float numpy_cos_float32(float x) {
  return numpy_sincos_float32(x, Trig::kCos);
}

}  // namespace locus::envs
