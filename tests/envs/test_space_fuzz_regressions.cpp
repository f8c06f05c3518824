// Inputs the action-decoding fuzz target (tests/fuzz/fuzz_space_actions.cpp) found to escape
// space_from_json as something other than an envs error.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "envs/errors.hpp"
#include "envs/space.hpp"

TEST_CASE("a space whose shape cannot be allocated is an InvalidArgumentError", "[spaces]") {
  // 4.4e14 elements: Box allocated its bounds first (std::bad_alloc, or ASan's allocation-size-
  // too-big abort) instead of refusing the shape with a message naming it.
  const auto json = nlohmann::json::parse(
      R"({"type": "Box", "low": 0, "high": 1, "shape": [2, 222222222222222], "dtype": "int16"})");
  REQUIRE_THROWS_AS(locus::envs::space_from_json(json), locus::envs::InvalidArgumentError);
  REQUIRE_THROWS_WITH(locus::envs::space_from_json(json),
                      Catch::Contains("shape (2, 222222222222222) has more than 2^40 elements"));
}

TEST_CASE("a Box whose low bound is +inf reads back from its JSON unchanged", "[spaces]") {
  // Found by the action-decoding target in CI: to_json wrote every infinite low bound as "-inf",
  // so {"low": "inf", "high": "inf"} came back as a different space.
  const auto json =
      nlohmann::json::parse(R"({"type": "Box", "low": "inf", "high": "inf", "shape": [3, 2]})");
  const auto space = locus::envs::space_from_json(json);
  REQUIRE(space->to_json()["low"] == "inf");
  REQUIRE(locus::envs::space_from_json(space->to_json())->equals(*space));
}
