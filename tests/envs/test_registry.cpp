// The registry: id parsing, Gymnasium's version rules, close matches, registration errors,
// make()'s wrapper stack and kwargs, and loading a plugin library at run time.

#include <catch2/catch.hpp>

#include "envs/classic_control/cartpole.hpp"
#include "envs/plugin.hpp"
#include "envs/registry.hpp"

using namespace locus::envs;

TEST_CASE("Env ids parse as [namespace/]Name[-vN]", "[registry]") {
  EnvId a = parse_env_id("CartPole-v1");
  REQUIRE_FALSE(a.ns.has_value());
  REQUIRE(a.name == "CartPole");
  REQUIRE(a.version == 1);
  EnvId b = parse_env_id("neuro/GoNoGo-v12");
  REQUIRE(b.ns == "neuro");
  REQUIRE(b.name == "GoNoGo");
  REQUIRE(b.version == 12);
  EnvId c = parse_env_id("Plain");
  REQUIRE_FALSE(c.version.has_value());
  REQUIRE(c.to_string() == "Plain");
  REQUIRE_THROWS_WITH(parse_env_id("bad id with spaces"), Catch::Contains("malformed"));
}

TEST_CASE("Unknown ids fail with close matches", "[registry]") {
  REQUIRE_THROWS_AS(make("CartPol-v1"), UnknownEnvError);
  REQUIRE_THROWS_WITH(make("CartPol-v1"), Catch::Contains("Did you mean: 'CartPole-v1'"));
  REQUIRE_THROWS_WITH(make("cartpole-v1"), Catch::Contains("CartPole-v1"));
  REQUIRE_THROWS_WITH(make("nowhere/CartPole-v1"), Catch::Contains("namespace 'nowhere'"));
  REQUIRE_THROWS_WITH(make("CompletelyDifferent-v0"), Catch::Contains("locus envs"));
}

TEST_CASE("Version rules follow Gymnasium", "[registry]") {
  // Unversioned: the latest version, with a warning.
  REQUIRE(Registry::global().spec("CartPole")->id == "CartPole-v1");
  // A version above the latest does not exist; the message lists what does.
  REQUIRE_THROWS_WITH(make("CartPole-v7"), Catch::Contains("CartPole-v0, CartPole-v1"));
  // v0 is registered with its own limit, as in Gymnasium.
  REQUIRE(Registry::global().spec("CartPole-v0")->max_episode_steps == 200);
}

TEST_CASE("Registration rejects duplicates and malformed specs", "[registry]") {
  Registry registry;
  EnvFactory factory = [](const Kwargs& kwargs) {
    return std::unique_ptr<Env>(std::make_unique<CartPoleEnv>(kwargs));
  };
  EnvSpec spec;
  spec.id = "test/Pole-v0";
  spec.entry_point = factory;
  registry.register_env(spec);
  REQUIRE(registry.contains("test/Pole-v0"));
  REQUIRE_THROWS_WITH(registry.register_env(spec), Catch::Contains("already registered"));
  EnvSpec empty;
  empty.id = "test/Empty-v0";
  REQUIRE_THROWS_WITH(registry.register_env(empty), Catch::Contains("entry point is empty"));
  EnvSpec bad_limit = spec;
  bad_limit.id = "test/Pole-v1";
  bad_limit.max_episode_steps = 0;
  REQUIRE_THROWS_WITH(registry.register_env(bad_limit), Catch::Contains("must be positive"));
}

TEST_CASE("make() stacks Gymnasium's wrappers and records what it made", "[registry]") {
  auto env = make("CartPole-v1", {{"sutton_barto_reward", true}}, {.max_episode_steps = 20});
  REQUIRE(env->spec()->max_episode_steps == 20);
  REQUIRE(env->spec()->kwargs.at("sutton_barto_reward") == true);
  env->reset(0);
  // Sutton & Barto's reward: 0 while balancing.
  REQUIRE(env->step(Array::scalar<std::int64_t>(0)).reward == 0.0);
  auto plain = make("CartPole-v1", {}, {.disable_env_checker = true});
  REQUIRE(plain->to_string() == "<TimeLimit<OrderEnforcing<CartPoleEnv<CartPole-v1>>>>");
  REQUIRE_THROWS_WITH(make("CartPole-v1", {}, {.max_episode_steps = -1}),
                      Catch::Contains("must be positive"));
}

TEST_CASE("A plugin library registers its environments when loaded", "[registry][plugin]") {
  const std::string path = std::string(LOCUS_BINARY_DIR) + "/lib/liblocus_corridor_plugin.so";
  const auto ids = load_plugin(path);
  REQUIRE(ids == std::vector<std::string>{"Corridor-v0"});
  auto env = make("Corridor-v0", {{"length", 4}});
  auto reset = env->reset(3);
  REQUIRE(env->observation_space().contains(reset.observation));
  double total = 0.0;
  bool done = false;
  for (int t = 0; t < 10 && !done; ++t) {
    auto step = env->step(Array::scalar<std::int64_t>(1));
    total += step.reward;
    done = step.terminated;
  }
  REQUIRE(done);
  REQUIRE(total == 1.0);
  REQUIRE_THROWS_WITH(make("Corridor-v0", {{"length", 1}}), Catch::Contains("at least 2"));
  // Loading it again registers nothing new, which is reported as an error.
  REQUIRE_THROWS_AS(load_plugin(path), PluginError);
  REQUIRE_THROWS_WITH(load_plugin("/nonexistent/libx.so"), Catch::Contains("does not exist"));
}
