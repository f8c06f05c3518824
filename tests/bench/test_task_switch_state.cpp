// bench's TaskSwitchEnv (the env RL sequences train on) saves and restores its whole state, so that
// a resumed run continues its episodes.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "bench/rl.hpp"
#include "envs/registry.hpp"
#include "tests/envs/env_state_test_util.hpp"

using namespace locus;
using nlohmann::json;

TEST_CASE("TaskSwitchEnv continues exactly after restore_state", "[env_state]") {
  // rl_config registers the env and builds its kwargs.
  const bench::RlConfig config = bench::rl_config({{"kind", "rl"},
                                                   {"tasks", {"GoNoGo-v0", "SetShiftGoNoGo-v0"}},
                                                   {"env_kwargs", {{"trials_per_episode", 2}}}},
                                                  json::object(), 5);
  auto a = envs::make(config.agent.env, config.agent.env_kwargs);
  auto b = envs::make(config.agent.env, config.agent.env_kwargs);
  REQUIRE(a->supports_state());
  a->reset(9);
  for (const bool at_end : {false, true}) {
    envs::state_test::advance(*a, 4, 23, at_end);
    const json state = a->save_state();
    b->restore_state(json::parse(state.dump()));
    REQUIRE(b->save_state() == state);
    const std::string expected = envs::state_test::play(*a, 6, 50);
    REQUIRE(envs::state_test::play(*b, 6, 50) == expected);
  }
  json state = a->save_state();
  json* fields = &state["fields"];
  while (fields->contains("env")) fields = &(*fields)["env"]["fields"];  // through the wrappers
  (*fields)["active"] = 2;
  REQUIRE_THROWS_WITH(b->restore_state(state),
                      Catch::Contains("TaskSwitchEnv state: 'fields.active' is 2, outside [0, 1]"));
}
