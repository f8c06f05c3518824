// neuromod/vector_math.hpp: the recurrent cells' exp, sigmoid and tanh against the standard
// library's, over the range the cells meet and at its edges.
#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <limits>

#include "neuromod/vector_math.hpp"

namespace vm = locus::neuromod::vector_math;

namespace {

// Distance in units in the last place between two finite floats of the same sign (or both zero).
std::int64_t ulp_distance(float a, float b) {
  if (a == b) return 0;
  if ((a < 0.0f) != (b < 0.0f)) return std::numeric_limits<std::int64_t>::max();
  return std::abs(std::int64_t(std::bit_cast<std::int32_t>(a)) -
                  std::int64_t(std::bit_cast<std::int32_t>(b)));
}

}  // namespace

TEST_CASE("vector_math: exp, sigmoid and tanh within a few ulp of std::", "[neuromod][recurrent]") {
  std::int64_t worst_exp = 0, worst_sigmoid = 0, worst_tanh = 0;
  for (float v = -40.0f; v < 40.0f; v += 3.1e-4f) {
    worst_exp = std::max(worst_exp, ulp_distance(vm::exp(v), std::exp(v)));
    const float sigmoid = float(1.0 / (1.0 + std::exp(-double(v))));
    worst_sigmoid = std::max(worst_sigmoid, ulp_distance(vm::sigmoid(v), sigmoid));
    worst_tanh = std::max(worst_tanh, ulp_distance(vm::tanh(v), std::tanh(v)));
  }
  CHECK(worst_exp <= 2);
  CHECK(worst_sigmoid <= 5);
  CHECK(worst_tanh <= 3);
  // Where tanh switches from its polynomial to 1 - 2 / (e^2|v| + 1), and tiny arguments (which the
  // formula alone would round to 0).
  for (float v : {0.6249f, 0.625f, 0.6251f, -0.625f, 1e-3f, -1e-5f, 1e-20f}) {
    INFO(v);
    CHECK(ulp_distance(vm::tanh(v), std::tanh(v)) <= 3);
  }
}

TEST_CASE("vector_math: saturation and the clamp of exp's argument", "[neuromod][recurrent]") {
  CHECK(vm::tanh(30.0f) == 1.0f);
  CHECK(vm::tanh(-1e30f) == -1.0f);
  CHECK(vm::sigmoid(200.0f) == 1.0f);
  CHECK(vm::sigmoid(-200.0f) >= 0.0f);
  CHECK(vm::sigmoid(-200.0f) < 1e-37f);
  CHECK(std::isfinite(vm::exp(1000.0f)));  // clamped to e^88, never inf
  CHECK(vm::exp(1000.0f) == vm::exp(88.0f));
  CHECK(vm::exp(-1000.0f) > 0.0f);  // clamped to e^-87, a normal float
  CHECK(vm::exp(0.0f) == 1.0f);
  CHECK(vm::tanh(0.0f) == 0.0f);
  CHECK(vm::select(true, 1.0f, 2.0f) == 1.0f);
  CHECK(vm::select(false, 1.0f, 2.0f) == 2.0f);
}
