#pragma once
// Shared by the classic-control tests: a float32 observation read back, and compared with
// reference values to 1e-6.

#include <catch2/catch.hpp>
#include <cstddef>
#include <vector>

#include "envs/array.hpp"

namespace locus::envs::testing {

inline std::vector<float> observation_of(const Value& value) {
  auto span = value.array().as<float>();
  return {span.begin(), span.end()};
}

// Want: a std::vector<double> (also from a braced list) or a std::array<double, N>.
template <typename Want>
void require_close(const std::vector<float>& got, const Want& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("element " << i);
    REQUIRE(got[i] == Approx(want[i]).margin(1e-6));
  }
}

inline void require_close(const std::vector<float>& got, const std::vector<double>& want) {
  require_close<std::vector<double>>(got, want);
}

}  // namespace locus::envs::testing
