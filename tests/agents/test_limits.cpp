// Size and range limits of agent configs: absurd sizes are refused at once, configs whose memory
// estimate exceeds the machine's available memory are refused before anything is allocated, and
// JSON values are range-checked instead of wrapped (-1 as a size_t) or cast with undefined
// behaviour (1e300 as a float).

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>

#include "agents/config.hpp"
#include "agents/errors.hpp"

using namespace locus::agents;
using Catch::Matchers::Contains;

TEST_CASE("absurd agent sizes are refused at once", "[config][limits]") {
  CHECK_THROWS_WITH(AgentConfig::from_json({{"num_envs", 100'000'000}}),
                    Contains("config key 'num_envs' must be at most 1048576, got 100000000"));
  CHECK_THROWS_WITH(AgentConfig::from_json({{"rollout_steps", 100'000'000}}),
                    Contains("config key 'rollout_steps' must be at most 1048576"));
  CHECK_THROWS_WITH(AgentConfig::from_json({{"hidden", {64, 100'000'000}}}),
                    Contains("'hidden (a layer width)' must be at most 16777216, got 100000000"));
  CHECK_THROWS_WITH(AgentConfig::from_json({{"frame_stack", 100'000'000}}),
                    Contains("'frame_stack' must be at most 65536"));
}

TEST_CASE("an agent config that cannot fit in memory is refused before anything is allocated",
          "[config][limits]") {
  // Three layers of 2^20 units: 2^41 weights with their gradients, 16 TiB.
  const nlohmann::json wide = {{"hidden", {1 << 20, 1 << 20, 1 << 20}}};
  CHECK_THROWS_WITH(
      AgentConfig::from_json(wide),
      Contains("the agent (num_envs 8, rollout_steps 16, hidden [1048576, 1048576, "
               "1048576], frame_stack 1") &&
          Contains("needs at least") && Contains("but only") &&
          Contains("lower num_envs, rollout_steps, the hidden widths or frame_stack"));
  // Sizes each within their limit whose rollout is too big together: 2^40 rows.
  CHECK_THROWS_WITH(AgentConfig::from_json({{"num_envs", 1 << 20}, {"rollout_steps", 1 << 20}}),
                    Contains("needs at least"));
  // The check an Agent makes once its env's sizes are known.
  AgentConfig config;
  CHECK_NOTHROW(config.check_memory(4, 2));
  CHECK_THROWS_WITH(
      config.check_memory(std::size_t{1} << 40, 2),
      Contains("1099511627776 observation values, 2 actions") && Contains("needs at least"));
}

TEST_CASE("memory estimates saturate instead of wrapping", "[config][limits]") {
  AgentConfig config;
  const auto most = std::numeric_limits<std::size_t>::max();
  CHECK(config.memory_estimate(most, most) == std::numeric_limits<std::uint64_t>::max());
  CHECK(config.memory_estimate(4, 2) > 0);
  CHECK(config.memory_estimate(4, 2) < config.memory_estimate(400, 2));
}

TEST_CASE("config numbers are range-checked, not wrapped or cast out of range",
          "[config][limits]") {
  CHECK_THROWS_WITH(AgentConfig::from_json({{"num_envs", -1}}),
                    Contains("config key 'num_envs' is -1; allowed: 0 to 18446744073709551615"));
  // Past float's range: converting 1e300 to float is undefined behaviour.
  CHECK_THROWS_WITH(
      AgentConfig::from_json({{"max_grad_norm", 1e300}}),
      Contains("config key 'max_grad_norm' is 1e+300; allowed: -3.4028234663852886e+38 to"));
  CHECK_THROWS_WITH(AgentConfig::from_json({{"learning_rate", -1e300}}),
                    Contains("config key 'learning_rate' is -1e+300; allowed"));
  // Every uint64 is a seed; nlohmann's get<std::int64_t>() made the largest ones negative.
  const std::uint64_t largest_seed = std::numeric_limits<std::uint64_t>::max();
  CHECK(AgentConfig::from_json({{"seed", largest_seed}}).seed == largest_seed);
  CHECK_THROWS_WITH(AgentConfig::from_json({{"seed", -1}}),
                    Contains("config key 'seed' is -1; allowed: 0 to 18446744073709551615"));
}
