// VectorEnv::save_state / restore_state: a restored VectorEnv shows what the saved one showed and
// steps exactly as it does, in both autoreset modes, saved right after a sub-env's episode ended
// too; bad states are refused and change nothing.

#include <catch2/catch.hpp>

#include "envs/registry.hpp"
#include "tests/envs/env_state_test_util.hpp"

using namespace locus::envs;
using namespace locus::envs::state_test;
using nlohmann::json;

namespace {

constexpr std::uint64_t kSeed = 3;

struct VectorCase {
  std::string id;
  Kwargs kwargs = Kwargs::object();
  AutoresetMode mode = AutoresetMode::kNextStep;
  std::optional<std::int64_t> max_episode_steps;
  int steps_before = 20;
  bool save_after_an_episode_end = false;  // stop at the first step where a sub-env ended
};

VectorEnv make_case(const VectorCase& c) {
  return make_vec(
      c.id, 4, c.kwargs,
      {.autoreset_mode = c.mode, .num_threads = 1, .max_episode_steps = c.max_episode_steps});
}

bool any_ended(const VectorEnv& vec) {
  for (std::size_t i = 0; i < vec.num_envs(); ++i) {
    if (vec.terminations()[i] != 0 || vec.truncations()[i] != 0) return true;
  }
  return false;
}

void check_vector_case(const VectorCase& c) {
  INFO(c.id << " " << c.kwargs.dump() << " " << to_string(c.mode) << " after " << c.steps_before
            << " steps" << (c.save_after_an_episode_end ? " (or the first episode end)" : ""));
  VectorEnv a = make_case(c);
  VectorEnv b = make_case(c);
  REQUIRE(a.supports_state());
  a.reset(kSeed);
  a.action_space().seed(1);
  std::vector<std::byte> batch(a.action_space().packed_bytes());
  for (int t = 0; t < c.steps_before; ++t) {
    a.action_space().sample_packed(batch);
    a.step(std::span<const std::byte>(batch));
    if (c.save_after_an_episode_end && any_ended(a)) break;
  }
  if (c.save_after_an_episode_end) REQUIRE(any_ended(a));
  const json state = a.save_state();
  b.restore_state(json::parse(state.dump()));
  // What the batch shows is as at save time: the observations the next actions are chosen from.
  REQUIRE(vector_view(b) == vector_view(a));
  REQUIRE(b.save_state() == state);
  const std::string expected = play_vector(a, 2, 60);
  REQUIRE(play_vector(b, 2, 60) == expected);
}

}  // namespace

TEST_CASE("VectorEnv continues exactly after restore_state", "[env_state][vector]") {
  for (const AutoresetMode mode : {AutoresetMode::kNextStep, AutoresetMode::kSameStep}) {
    const std::vector<VectorCase> cases = {
        {"CartPole-v1", Kwargs::object(), mode, 12, 30},
        {"CartPole-v1", Kwargs::object(), mode, 12, 30, true},
        {"CartPole-v1", Kwargs::object(), mode, std::nullopt, 200, true},
        {"Pendulum-v1", Kwargs::object(), mode, 9, 9, true},
        {"GoNoGo-v0", {{"trials_per_episode", 1}}, mode, std::nullopt, 40, true},
        {"GoNoGo-v0", Kwargs::object(), mode, std::nullopt, 7},
        {"ReversalBandit-v0", {{"block_length", 2}, {"block_length_max", 4}}, mode, 5, 13},
        {"PerceptualDecisionMaking-v0", {{"sigma", 1.0}}, mode, 20, 20, true},
    };
    for (const VectorCase& c : cases) check_vector_case(c);
  }
}

TEST_CASE("VectorEnv refuses bad states and changes nothing", "[env_state][vector]") {
  const VectorCase c{"CartPole-v1", Kwargs::object(), AutoresetMode::kSameStep, 10};
  VectorEnv vec = make_case(c);
  vec.reset(kSeed);
  std::vector<std::int64_t> ones(vec.num_envs(), 1);
  for (int t = 0; t < 4; ++t) vec.step(std::span<const std::int64_t>(ones));
  const json before = vec.save_state();
  const std::string view = vector_view(vec);

  const auto check_refused = [&](const json& state, const std::string& message) {
    INFO(message);
    REQUIRE_THROWS_AS(vec.restore_state(state), InvalidArgumentError);
    REQUIRE_THROWS_WITH(vec.restore_state(state), Catch::Contains(message));
    REQUIRE(vec.save_state() == before);
    REQUIRE(vector_view(vec) == view);
  };
  VectorEnv other = make_vec("CartPole-v1", 3);
  other.reset(kSeed);
  check_refused(other.save_state(), "VectorEnv state: 'num_envs' is 3 but this VectorEnv has 4");
  VectorEnv next_step = make_vec("CartPole-v1", 4);
  next_step.reset(kSeed);
  check_refused(next_step.save_state(), "'autoreset_mode' is \"NextStep\"");

  // Env 2 is refused after envs 0 and 1 were restored: they are put back.
  VectorEnv moved = make_case(c);
  moved.reset(kSeed + 5);
  for (int t = 0; t < 9; ++t) moved.step(std::span<const std::int64_t>(ones));
  json state = moved.save_state();
  state["envs"][2]["env"]["np_random"] = 5;
  check_refused(state, "'np_random' must be a JSON object");
  state = moved.save_state();
  state["envs"][3]["elapsed"] = 11;
  check_refused(state, "VectorEnv state: 'envs[3].elapsed' is 11, outside [0, 10]");
  state = moved.save_state();
  state["envs"][1]["observation"] = "AAAA";
  check_refused(state, "'envs[1].observation' holds 3 bytes, the env's layout needs 16");
  state = moved.save_state();
  state["envs"][0]["info"] = {{"x", "int", "one"}};
  check_refused(state, "'envs[0].info[0].value' must be an integer");

  // The refusals left it able to go on exactly as a copy restored from `before`.
  VectorEnv twin = make_case(c);
  twin.restore_state(before);
  REQUIRE(play_vector(vec, 4, 30) == play_vector(twin, 4, 30));
}
