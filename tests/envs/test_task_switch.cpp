// TaskSwitchEnv (envs/sequences/task_switch.hpp): the env RL sequences train on shows the task its
// owner selects, pads observations to the largest task's, and saves and restores its whole state,
// so that a resumed run continues its episodes.

#include <catch2/catch.hpp>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "envs/errors.hpp"
#include "envs/registry.hpp"
#include "envs/sequences/task_switch.hpp"
#include "tests/envs/env_state_test_util.hpp"

using namespace locus;
using nlohmann::json;

namespace {

json go_no_go_then_set_shift(bool task_input = false) {
  const json kwargs = {{"trials_per_episode", 2}};
  return {{"tasks",
           {{{"id", "GoNoGo-v0"}, {"kwargs", kwargs}},
            {{"id", "SetShiftGoNoGo-v0"}, {"kwargs", kwargs}}}},
          {"task", 0},
          {"task_input", task_input}};
}

std::vector<float> observation_of(envs::Env& env, std::uint64_t seed) {
  std::vector<std::byte> bytes(env.observation_space().packed_bytes());
  envs::Info info;
  env.reset(bytes, info, seed);
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}

envs::TaskSwitchEnv& switching(envs::Env& env) {
  return dynamic_cast<envs::TaskSwitchEnv&>(env.unwrapped());
}

}  // namespace

TEST_CASE("TaskSwitch-v0 is registered and makes with its defaults", "[task_switch]") {
  auto env = envs::make("TaskSwitch-v0");
  CHECK(switching(*env).num_tasks() == 4);  // the CartPole domain-shift family
  CHECK(env->observation_space().to_string() ==
        envs::make("CartPole-v1")->observation_space().to_string());
}

TEST_CASE("TaskSwitchEnv shows the selected task from the next reset, padded, with its id",
          "[task_switch]") {
  auto env = envs::make(envs::kTaskSwitchId, go_no_go_then_set_shift(/*task_input=*/true));
  // SetShiftGoNoGo's 5 channels, then a one-hot id of the 2 tasks.
  REQUIRE(env->observation_space().packed_bytes() == 7 * sizeof(float));
  auto first = observation_of(*env, 3);
  CHECK(first[5] == 1.0f);
  CHECK(first[6] == 0.0f);
  CHECK(first[3] == 0.0f);  // GoNoGo has 3 channels: the rest is padding
  CHECK(first[4] == 0.0f);
  switching(*env).set_task(1);
  auto second = observation_of(*env, 3);
  CHECK(second[5] == 0.0f);
  CHECK(second[6] == 1.0f);
  CHECK_THROWS_WITH(switching(*env).set_task(2), Catch::Contains("task 2 is out of range 0..1"));
}

TEST_CASE("TaskSwitchEnv refuses tasks that do not fit together, naming them", "[task_switch]") {
  CHECK_THROWS_WITH(envs::make(envs::kTaskSwitchId,
                               {{"tasks", {{{"id", "CartPole-v1"}}, {{"id", "Pendulum-v1"}}}}}),
                    Catch::Contains("Pendulum-v1") && Catch::Contains("same action space"));
  CHECK_THROWS_WITH(envs::make(envs::kTaskSwitchId, {{"tasks", json::array()}}),
                    Catch::Contains("non-empty list"));
  CHECK_THROWS_WITH(envs::make(envs::kTaskSwitchId, {{"schedule", "sequential"}}),
                    Catch::Contains("unknown kwarg 'schedule'"));
}

TEST_CASE("TaskSwitchEnv continues exactly after restore_state", "[env_state]") {
  const json kwargs = go_no_go_then_set_shift();
  auto a = envs::make(envs::kTaskSwitchId, kwargs);
  auto b = envs::make(envs::kTaskSwitchId, kwargs);
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
