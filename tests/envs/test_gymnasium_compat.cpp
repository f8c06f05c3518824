// Gymnasium habits the C++ API follows (issue 21): numpy's float32 sin/cos in Acrobot's first
// observation, seeds of any size, float64 / out-of-range continuous actions, reset options with
// keys an env does not read, and the error for a render mode an env lacks. Golden values are from
// gymnasium 1.4.0 / numpy 2.4 on x86-64 (python/tests/test_gymnasium_compat.py compares against
// the installed packages directly).

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "envs/classic_control/numpy_float32_trig.hpp"
#include "envs/registry.hpp"
#include "envs/vector_env.hpp"

using namespace locus::envs;

namespace {

Value box(std::vector<double> values) {
  return Array::from_vector<double>(values);
}

Value box32(float value) {
  return Array::from_vector<float>({value});
}

std::vector<float> floats(const Value& value) {
  const auto span = value.array().as<float>();
  return {span.begin(), span.end()};
}

const Seed kTwoTo64 = Seed::from_words(std::vector<std::uint32_t>{0, 0, 1});

}  // namespace

TEST_CASE("numpy's float32 sin and cos, bit for bit", "[gymnasium_compat][acrobot]") {
  // Arguments where numpy's Cody-Waite polynomial and a correctly rounded cosf/sinf differ.
  CHECK(numpy_cos_float32(0x1.5d62cap-5F) == 0x1.ff88d0p-1F);
  CHECK(numpy_cos_float32(-0x1.54dad8p-4F) == 0x1.fe3a6ep-1F);
  CHECK(numpy_cos_float32(-0x1.8ecf1ap-4F) == 0x1.fd9336p-1F);
  CHECK(numpy_sin_float32(-0x1.1b1b12p-4F) == -0x1.1ae160p-4F);
  CHECK(numpy_sin_float32(-0x1.5d7cf4p-4F) == -0x1.5d106ep-4F);
  CHECK(numpy_sin_float32(-0x1.3daed8p-4F) == -0x1.3d5d56p-4F);
  // Large arguments, within Cody-Waite's range and beyond it (the C library's result).
  CHECK(numpy_cos_float32(0x1.86a1p+15F) == 0x1.dac9bap-2F);
  CHECK(numpy_sin_float32(0x1.86a1p+15F) == -0x1.c5a384p-1F);
  CHECK(numpy_cos_float32(-0x1.117040p+16F) == 0x1.81c3d0p-1F);
  CHECK(numpy_sin_float32(0x1.86a0p+16F) == 0x1.24daaap-5F);
  CHECK(numpy_cos_float32(0x1.86a0p+16F) == -0x1.ffac38p-1F);
}

TEST_CASE("Acrobot's first observation takes numpy's float32 cos and sin", "[gymnasium_compat]") {
  // gymnasium: gym.make("Acrobot-v1").reset(seed=s)[0][:4]; each of these seeds draws a reset
  // state where numpy's float32 cos or sin is not the correctly rounded value.
  const std::vector<std::pair<std::uint64_t, std::vector<float>>> cases = {
      {835, {0x1.feb4d4p-1F, 0x1.22fbfep-4F, 0x1.ff990cp-1F, 0x1.44a13cp-5F}},
      {1506, {0x1.fe357ep-1F, -0x1.564e2cp-4F, 0x1.fe1b88p-1F, 0x1.5fd820p-4F}},
      {1692, {0x1.fdf3e2p-1F, -0x1.6deec6p-4F, 0x1.fff450p-1F, -0x1.b5a780p-7F}},
  };
  for (const auto& [seed, want] : cases) {
    INFO("seed " << seed);
    const auto obs = floats(make("Acrobot-v1")->reset(seed).observation);
    CHECK(std::vector<float>(obs.begin(), obs.begin() + 4) == want);
  }
}

TEST_CASE("Seed holds any non-negative integer as numpy does", "[gymnasium_compat][seed]") {
  CHECK(Seed(0).words().size() == 1);
  CHECK(Seed(0).to_string() == "0");
  CHECK(Seed(~std::uint64_t{0}).to_string() == "18446744073709551615");
  CHECK(Seed(~std::uint64_t{0}).plus(1) == kTwoTo64);
  CHECK(kTwoTo64.to_string() == "18446744073709551616");
  CHECK(!kTwoTo64.fits_uint64());
  CHECK(Seed(~std::uint64_t{0} - 2).plus(3).to_string() == "18446744073709551616");
  CHECK(Seed::from_words(std::vector<std::uint32_t>{5, 0, 0}) == Seed(5));
  CHECK(Seed::from_words(std::vector<std::uint32_t>{}) == Seed(0));
  CHECK(Seed(123456789012345ULL).to_uint64() == 123456789012345ULL);
  CHECK_THROWS_AS(kTwoTo64.to_uint64(), std::out_of_range);
  const Seed two_to_128_plus_1 = Seed::from_words(std::vector<std::uint32_t>{1, 0, 0, 0, 1});
  CHECK(two_to_128_plus_1.to_string() == "340282366920938463463374607431768211457");

  // numpy.random.default_rng(seed).random() for seeds of 2^64 and more.
  CHECK(Rng(kTwoTo64).random() == 0x1.cc0542cb8f230p-2);
  CHECK(Rng(kTwoTo64.plus(5)).random() == 0x1.7c3daf3bc7ac0p-1);
  CHECK(Rng(two_to_128_plus_1).random() == 0x1.e72ed05fc3c84p-2);
  // Below 2^64 a Seed is the uint64 seed.
  CHECK(Rng(Seed(42)).random() == Rng(std::uint64_t{42}).random());
}

TEST_CASE("reset takes seeds of 2^64 and more", "[gymnasium_compat][seed]") {
  auto env = make("CartPole-v1");
  const auto big = floats(env->reset(kTwoTo64).observation);
  // np_random was seeded with numpy's SeedSequence(2**64): the same generator as Rng(2^64).
  Rng expected(kTwoTo64);
  std::vector<float> want(4);
  for (auto& v : want) v = static_cast<float>(expected.uniform(-0.05, 0.05));
  CHECK(big == want);
  // Not the seed wrapped modulo 2^64.
  CHECK(big != floats(make("CartPole-v1")->reset(0).observation));
}

TEST_CASE("VectorEnv seeds env i with seed + i, carrying past 2^64",
          "[gymnasium_compat][seed][vector]") {
  VectorEnv vec = make_vec("CartPole-v1", 4);
  vec.reset(Seed(~std::uint64_t{0} - 2));  // 2^64 - 3
  const std::span<const float> obs = vec.observations<float>();
  for (std::size_t i = 0; i < 4; ++i) {
    auto single = make("CartPole-v1");
    const auto want = floats(single->reset(Seed(~std::uint64_t{0} - 2).plus(i)).observation);
    INFO("env " << i);
    CHECK(std::vector<float>(obs.begin() + 4 * i, obs.begin() + 4 * (i + 1)) == want);
  }
  // One seed per env.
  std::vector<std::optional<Seed>> seeds = {kTwoTo64, std::nullopt, Seed(7), kTwoTo64.plus(1)};
  vec.reset_each(seeds);
  const auto first = std::vector<float>(obs.begin(), obs.begin() + 4);
  CHECK(first == floats(make("CartPole-v1")->reset(kTwoTo64).observation));
  std::vector<std::optional<Seed>> too_few = {Seed(1)};
  CHECK_THROWS_AS(vec.reset_each(too_few), InvalidArgumentError);
}

TEST_CASE("reset options an env does not read are ignored", "[gymnasium_compat][options]") {
  for (const char* id : {"CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0",
                         "Pendulum-v1", "GoNoGo-v0", "ReversalBandit-v0"}) {
    INFO(id);
    auto plain = make(id);
    auto with_options = make(id);
    const Value want = plain->reset(3).observation;
    const Value got = with_options->reset(3, {{"not_an_option", 1}, {"seed", 5}}).observation;
    CHECK(got.array() == want.array());
  }
  // The options an env reads are still checked.
  CHECK_THROWS_AS(make("Pendulum-v1")->reset(0, {{"x_init", -1.0}}), InvalidArgumentError);
}

TEST_CASE("Pendulum clips out-of-range torques and computes with float64 ones",
          "[gymnasium_compat][actions]") {
  auto env = make("Pendulum-v1");
  env->reset(0);
  // gymnasium: reset(seed=0); step(np.array([0.3])) and step(np.array([0.3], np.float32)).
  StepResult r = env->step(box({0.3}));
  CHECK(r.reward == -0x1.8610969fe2969p-1);
  CHECK(floats(r.observation) ==
        std::vector<float>{0x1.4ad932p-1F, 0x1.86bf44p-1F, 0x1.39cf2ap-3F});
  env->reset(0);
  CHECK(env->step(box32(0.3F)).reward == -0x1.8610969ff596ap-1);
  // An out-of-range torque is clipped to 2, not refused.
  env->reset(0);
  const StepResult clipped = env->step(box32(5.0F));
  CHECK(clipped.reward == -0x1.88111475c596ap-1);
  env->reset(0);
  CHECK(floats(env->step(box32(2.0F)).observation) == floats(clipped.observation));
  // An integer array is float64 to numpy's clip: gymnasium's step([1]).
  env->reset(0);
  CHECK(env->step(Array::from_vector<std::int64_t>({1})).reward == -0x1.8687dd285d23fp-1);
  // NaN and a wrong shape are still refused.
  env->reset(0);
  CHECK_THROWS_AS(env->step(box32(std::nanf(""))), InvalidActionError);
  CHECK_THROWS_AS(env->step(box({std::nan("")})), InvalidActionError);
  CHECK_THROWS_AS(env->step(box({1.0, 2.0})), InvalidActionError);
}

TEST_CASE("MountainCarContinuous clips the force and costs the action asked for",
          "[gymnasium_compat][actions]") {
  auto env = make("MountainCarContinuous-v0");
  env->reset(0);
  // gymnasium: reset(seed=0); step(np.array([1.5])); step(np.array([0.3])).
  StepResult r = env->step(box({1.5}));
  CHECK(r.reward == -0x1.ccccccccccccdp-3);
  CHECK(floats(r.observation) == std::vector<float>{-0x1.e2cde8p-2F, 0x1.255a9cp-10F});
  r = env->step(box({0.3}));
  CHECK(r.reward == -0x1.26e978d4fdf3bp-7);
  CHECK(floats(r.observation) == std::vector<float>{-0x1.e198a0p-2F, 0x1.354864p-10F});
  // A float32 action out of range is taken too (the packed path).
  env->reset(0);
  CHECK(env->step(box32(-7.0F)).reward == Approx(-4.9));
}

TEST_CASE("a discrete env still refuses what Gymnasium refuses", "[gymnasium_compat][actions]") {
  auto env = make("CartPole-v1");
  env->reset(0);
  CHECK_THROWS_AS(env->step(Array::scalar<std::int64_t>(2)), InvalidActionError);
  CHECK_THROWS_AS(env->step(Array::scalar<double>(1.0)), InvalidActionError);
  // A float64 action is for float32 Box spaces.
  std::vector<std::byte> obs(env->observation_space().packed_bytes());
  Info info;
  const double action = 1.0;
  CHECK_THROWS_AS(env->step_float64(std::span(&action, 1), ActionForm::kFloat64, obs, info),
                  InvalidActionError);
}

TEST_CASE("an unsupported render mode is an UnsupportedRenderModeError",
          "[gymnasium_compat][render]") {
  CHECK_THROWS_AS(make("CartPole-v1", {{"render_mode", "rgb_array"}}), UnsupportedRenderModeError);
  CHECK_THROWS_AS(make("GoNoGo-v0", {{"render_mode", "rgb_array"}}), InvalidArgumentError);
  CHECK_NOTHROW(make("CartPole-v1", {{"render_mode", "ansi"}}));
}
