// Gymnasium's wrappers: TimeLimit, OrderEnforcing, RecordEpisodeStatistics, NormalizeObservation
// and FrameStackObservation, with their semantics checked against gymnasium 1.x and the packed
// step path checked to allocate nothing.

#include <catch2/catch.hpp>
#include <cmath>

#include "envs/registry.hpp"
#include "envs/wrappers/wrappers.hpp"
#include "util/counting_new.hpp"

using namespace locus::envs;

// Counts operator new calls, to prove that the packed step path allocates nothing.
using locus::util::AllocationCounter;

namespace {

Value action(std::int64_t a) {
  return Array::scalar<std::int64_t>(a);
}

std::vector<float> floats(const Value& v) {
  const auto s = v.array().as<float>();
  return {s.begin(), s.end()};
}

// Observes its step count t as [t] (float32), rewards 0.5 per step and terminates on step
// `terminate_at` exactly: the case where TimeLimit must report terminated and truncated together.
class CountdownEnv final : public Env {
 public:
  explicit CountdownEnv(std::int64_t terminate_at, bool bounded = false)
      : terminate_at_(terminate_at) {
    if (bounded) {
      set_observation_space(std::make_shared<Box>(1.0, 100.0, Shape{1}, DType::kFloat32));
    } else {
      set_observation_space(std::make_shared<Box>(-INFINITY, INFINITY, Shape{1}, DType::kFloat32));
    }
    set_action_space(std::make_shared<Discrete>(2));
    metadata_.render_modes = {"ansi"};
    metadata_.render_fps = 4;
  }
  std::string name() const override { return "CountdownEnv"; }
  std::string render() override { return "t=" + std::to_string(t_); }

 protected:
  void reset_impl(const std::optional<Seed>&, const Kwargs&, std::span<std::byte> observation,
                  Info&) override {
    t_ = 0;
    as_span<float>(observation)[0] = static_cast<float>(t_);
  }
  StepOutcome step_impl(std::span<const std::byte>, std::span<std::byte> observation,
                        Info&) override {
    ++t_;
    as_span<float>(observation)[0] = static_cast<float>(t_);
    return {0.5, t_ == terminate_at_, false};
  }

 private:
  std::int64_t terminate_at_;
  std::int64_t t_ = 0;
};

// Deterministic observations of three elements in float64 or uint8, the twin of the Python Ramp
// env used to compute the NormalizeObservation expectations below.
class RampEnv final : public Env {
 public:
  explicit RampEnv(DType dtype) : dtype_(dtype) {
    if (dtype == DType::kUInt8) {
      set_observation_space(std::make_shared<Box>(0.0, 255.0, Shape{3}, DType::kUInt8));
    } else {
      set_observation_space(std::make_shared<Box>(-INFINITY, INFINITY, Shape{3}, dtype));
    }
    set_action_space(std::make_shared<Discrete>(2));
  }
  std::string name() const override { return "RampEnv"; }

 protected:
  void reset_impl(const std::optional<Seed>&, const Kwargs&, std::span<std::byte> observation,
                  Info&) override {
    t_ = 0;
    write(observation);
  }
  StepOutcome step_impl(std::span<const std::byte>, std::span<std::byte> observation,
                        Info&) override {
    ++t_;
    write(observation);
    return {0.0, false, false};
  }

 private:
  void write(std::span<std::byte> observation) const {
    for (int i = 0; i < 3; ++i) {
      if (dtype_ == DType::kUInt8) {
        as_span<std::uint8_t>(observation)[i] = static_cast<std::uint8_t>((37 * t_ + 11 * i) % 256);
      } else {
        as_span<double>(observation)[i] = 0.5 * t_ * t_ - 1.25 * i + 0.1 * (t_ % 3);
      }
    }
  }
  DType dtype_;
  int t_ = 0;
};

// A Discrete(8) observation that starts at 3 and counts up modulo 8.
class ClockEnv final : public Env {
 public:
  ClockEnv() {
    set_observation_space(std::make_shared<Discrete>(8));
    set_action_space(std::make_shared<Discrete>(2));
  }
  std::string name() const override { return "ClockEnv"; }

 protected:
  void reset_impl(const std::optional<Seed>&, const Kwargs&, std::span<std::byte> observation,
                  Info&) override {
    hour_ = 3;
    as_span<std::int64_t>(observation)[0] = hour_;
  }
  StepOutcome step_impl(std::span<const std::byte>, std::span<std::byte> observation,
                        Info&) override {
    hour_ = (hour_ + 1) % 8;
    as_span<std::int64_t>(observation)[0] = hour_;
    return {0.0, false, false};
  }

 private:
  std::int64_t hour_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// TimeLimit

TEST_CASE("TimeLimit truncates at the limit, together with terminated", "[wrappers]") {
  SECTION("terminated and truncated on the same step") {
    TimeLimit env(std::make_unique<CountdownEnv>(5), 5);
    env.reset();
    for (int t = 1; t <= 4; ++t) {
      const auto r = env.step(action(0));
      REQUIRE_FALSE(r.terminated);
      REQUIRE_FALSE(r.truncated);
      REQUIRE(env.elapsed_steps() == t);
    }
    const auto last = env.step(action(0));
    REQUIRE(last.terminated);
    REQUIRE(last.truncated);
  }
  SECTION("the limit before the terminal state") {
    TimeLimit env(std::make_unique<CountdownEnv>(5), 3);
    env.reset();
    env.step(action(0));
    env.step(action(0));
    const auto r = env.step(action(0));
    REQUIRE_FALSE(r.terminated);
    REQUIRE(r.truncated);
    // reset() restarts the count.
    env.reset();
    REQUIRE(env.elapsed_steps() == 0);
    REQUIRE_FALSE(env.step(action(0)).truncated);
  }
  SECTION("the terminal state before the limit") {
    TimeLimit env(std::make_unique<CountdownEnv>(2), 10);
    env.reset();
    env.step(action(0));
    const auto r = env.step(action(0));
    REQUIRE(r.terminated);
    REQUIRE_FALSE(r.truncated);
    REQUIRE(env.max_episode_steps() == 10);
  }
  REQUIRE_THROWS_AS(TimeLimit(std::make_unique<CountdownEnv>(2), 0), InvalidArgumentError);
  REQUIRE_THROWS_WITH(TimeLimit(std::make_unique<CountdownEnv>(2), -3),
                      Catch::Contains("max_episode_steps must be positive, got -3"));
}

TEST_CASE("TimeLimit's spec reports the limit it applies, as Gymnasium's does", "[wrappers]") {
  auto made = make("CartPole-v1", {}, {.disable_env_checker = true});
  REQUIRE(made->spec()->max_episode_steps == 500);
  TimeLimit shorter(std::move(made), 7);
  REQUIRE(shorter.spec()->max_episode_steps == 7);
  REQUIRE(shorter.to_string() ==
          "<TimeLimit<TimeLimit<OrderEnforcing<CartPoleEnv<CartPole-v1>>>>>");
  shorter.reset(0);
  StepResult r;
  int steps = 0;
  do {
    r = shorter.step(action(steps % 2));
    ++steps;
  } while (!r.terminated && !r.truncated);
  REQUIRE(steps == 7);
  REQUIRE(r.truncated);
}

// ---------------------------------------------------------------------------------------------
// OrderEnforcing

TEST_CASE("OrderEnforcing refuses step and render before reset", "[wrappers]") {
  OrderEnforcing env(std::make_unique<CountdownEnv>(3));
  REQUIRE_FALSE(env.has_reset());
  REQUIRE_THROWS_AS(env.step(action(0)), ResetNeededError);
  REQUIRE_THROWS_WITH(env.step(action(0)), Catch::Contains("step() before calling reset()"));
  REQUIRE_THROWS_AS(env.render(), ResetNeededError);
  REQUIRE_THROWS_WITH(env.render(),
                      Catch::Contains("Cannot call `env.render()` before calling `env.reset()`"));
  env.reset();
  REQUIRE(env.has_reset());
  REQUIRE(env.render() == "t=0");
  REQUIRE(env.step(action(1)).reward == 0.5);

  OrderEnforcing lenient(std::make_unique<CountdownEnv>(3), true);
  REQUIRE(lenient.disable_render_order_enforcing());
  REQUIRE(lenient.render() == "t=0");
  REQUIRE_THROWS_AS(lenient.step(action(0)), ResetNeededError);
}

TEST_CASE("make() stacks the wrappers in Gymnasium's order", "[wrappers]") {
  auto env = make("CartPole-v1");
  REQUIRE(env->to_string() ==
          "<TimeLimit<OrderEnforcing<PassiveEnvChecker<CartPoleEnv<CartPole-v1>>>>>");
  auto* limit = dynamic_cast<TimeLimit*>(env.get());
  REQUIRE(limit != nullptr);
  REQUIRE(limit->max_episode_steps() == 500);
  auto* order = dynamic_cast<OrderEnforcing*>(&limit->env());
  REQUIRE(order != nullptr);
  REQUIRE(dynamic_cast<PassiveEnvChecker*>(&order->env()) != nullptr);
  REQUIRE_THROWS_AS(env->render(), ResetNeededError);
}

// ---------------------------------------------------------------------------------------------
// RecordEpisodeStatistics

TEST_CASE("RecordEpisodeStatistics reports Gymnasium's episode statistics on CartPole",
          "[wrappers]") {
  // Expected values from the pip-installed gymnasium 1.4.0:
  //   env = RecordEpisodeStatistics(gym.make("CartPole-v1"), buffer_length=2)
  //   obs, _ = env.reset(seed=42); then three episodes with the policies below, each followed by
  //   an unseeded env.reset()
  //   -> (r, l, terminated, truncated) = (10.0, 10, T, F), (500.0, 500, F, T), (17.0, 17, T, F);
  //      return_queue [500.0, 17.0], length_queue [500, 17]
  RecordEpisodeStatistics env(make("CartPole-v1"), 2);
  Value obs = env.reset(42).observation;
  struct Expected {
    double r;
    std::int64_t l;
    bool terminated;
    bool truncated;
  };
  const std::vector<Expected> expected = {
      {10.0, 10, true, false}, {500.0, 500, false, true}, {17.0, 17, true, false}};
  for (std::size_t episode = 0; episode < expected.size(); ++episode) {
    std::int64_t t = 0;
    while (true) {
      const auto o = floats(obs);
      std::int64_t a = 1;
      if (episode == 1) a = o[2] + 0.5F * o[3] > 0 ? 1 : 0;  // a balancing controller
      if (episode == 2) a = t % 3 == 0 ? 0 : 1;
      auto r = env.step(action(a));
      ++t;
      obs = r.observation;
      if (r.terminated || r.truncated) {
        INFO("episode " << episode);
        REQUIRE(r.terminated == expected[episode].terminated);
        REQUIRE(r.truncated == expected[episode].truncated);
        const Info& stats = r.info.get_info("episode");
        REQUIRE(stats.get_double("r") == expected[episode].r);
        REQUIRE(stats.get_int("l") == expected[episode].l);
        REQUIRE(std::holds_alternative<std::int64_t>(*stats.find("l")));
        REQUIRE(stats.get_double("t") >= 0.0);
        REQUIRE(std::holds_alternative<double>(*stats.find("t")));
        obs = env.reset().observation;
        break;
      }
      REQUIRE_FALSE(r.info.contains("episode"));
    }
  }
  REQUIRE(env.episode_count() == 3);
  REQUIRE(env.return_queue() == std::deque<double>{500.0, 17.0});
  REQUIRE(env.length_queue() == std::deque<std::int64_t>{500, 17});
  REQUIRE(env.time_queue().size() == 2);
}

TEST_CASE("RecordEpisodeStatistics sums fractional rewards and keys its stats", "[wrappers]") {
  RecordEpisodeStatistics env(std::make_unique<CountdownEnv>(3), 100, "stats");
  env.reset();
  env.step(action(0));
  REQUIRE(env.episode_return() == 0.5);
  REQUIRE(env.episode_length() == 1);
  env.step(action(0));
  const auto r = env.step(action(0));
  REQUIRE(r.info.get_info("stats").get_double("r") == 1.5);
  REQUIRE(r.info.get_info("stats").get_int("l") == 3);
  // Wrapped twice with the same key, the outer one would overwrite the inner one's statistics.
  RecordEpisodeStatistics twice(
      std::make_unique<RecordEpisodeStatistics>(std::make_unique<CountdownEnv>(1)));
  twice.reset();
  REQUIRE_THROWS_WITH(twice.step(action(0)), Catch::Contains("already has the key 'episode'"));
  REQUIRE_THROWS_AS(RecordEpisodeStatistics(std::make_unique<CountdownEnv>(1), 0),
                    InvalidArgumentError);
}

// ---------------------------------------------------------------------------------------------
// NormalizeObservation

TEST_CASE("NormalizeObservation matches Gymnasium on CartPole (float32 statistics)", "[wrappers]") {
  // Expected values from the pip-installed gymnasium 1.4.0 (numpy 2):
  //   env = NormalizeObservation(gym.make("CartPole-v1")); obs, _ = env.reset(seed=42)
  //   then env.step(t % 2) for t in range(12); the observations and env.obs_rms after them.
  const std::vector<std::vector<float>> expected = {
      {0.00027389239403419197f, -6.114019197411835e-05f, 0.0003585150698199868f,
       0.00019740195421036333f},
      {-0.008446340449154377f, -0.9974462985992432f, 0.02813592366874218f, 0.9989674091339111f},
      {-0.4481711983680725f, 0.7001004219055176f, 0.6757437586784363f, -0.6226166486740112f},
      {-0.3975200355052948f, -1.004423975944519f, 0.6466203927993774f, 1.0775853395462036f},
      {-0.9122363328933716f, 0.8033881187438965f, 1.2459080219268799f, -0.6314801573753357f},
      {-0.8033261895179749f, -1.0119825601577759f, 1.135766863822937f, 1.1711643934249878f},
      {-1.249826431274414f, 0.8448924422264099f, 1.5452454090118408f, -0.5539916753768921f},
      {-1.093721628189087f, -1.0209680795669556f, 1.4063518047332764f, 1.2795031070709229f},
      {-1.450455665588379f, 0.863277018070221f, 1.6961798667907715f, -0.4267740249633789f},
      {-1.2760051488876343f, -1.0317548513412476f, 1.568068027496338f, 1.4010348320007324f},
      {-1.5644458532333374f, 0.8694555163383484f, 1.7883436679840088f, -0.26014605164527893f},
      {-1.3913757801055908f, -1.0446690320968628f, 1.6813886165618896f, 1.5326712131500244f},
      {-1.6320337057113647f, 0.867550253868103f, 1.8571460247039795f, -0.06016860157251358f}};
  const std::vector<double> expected_mean = {0.015580865554511547, -0.10034200549125671,
                                             0.06052142754197121, 0.24739494919776917};
  const std::vector<double> expected_var = {7.310783257707953e-05, 0.009462305344641209,
                                            0.00035324969212524593, 0.025401975959539413};
  NormalizeObservation env(make("CartPole-v1"));
  REQUIRE(env.observation_space().to_string() == "Box(-inf, inf, (4,), float32)");
  std::vector<std::vector<float>> got = {floats(env.reset(42).observation)};
  for (int t = 0; t < 12; ++t) got.push_back(floats(env.step(action(t % 2)).observation));
  // CartPole's sin/cos may differ from numpy's by an ulp (docs/envs.md); the wrapper's float32
  // arithmetic itself is exact (see the Ramp test below), so a relative 1e-5 suffices.
  for (std::size_t t = 0; t < expected.size(); ++t) {
    for (std::size_t i = 0; i < 4; ++i) {
      INFO("t = " << t << ", i = " << i);
      REQUIRE(got[t][i] == Approx(expected[t][i]).epsilon(1e-5).margin(1e-9));
    }
  }
  for (std::size_t i = 0; i < 4; ++i) {
    REQUIRE(env.mean()[i] == Approx(expected_mean[i]).epsilon(1e-5));
    REQUIRE(env.var()[i] == Approx(expected_var[i]).epsilon(1e-5));
  }
  REQUIRE(env.count() == 13.0001);
}

TEST_CASE("NormalizeObservation reproduces numpy's promotion for float64 and uint8 observations",
          "[wrappers]") {
  // Expected values from the pip-installed gymnasium 1.4.0 (numpy 2), with the Python twin of
  // RampEnv: obs[i] = 0.5*t*t - 1.25*i + 0.1*(t % 3) (float64) or (37*t + 11*i) % 256 (uint8);
  //   env = NormalizeObservation(Ramp(dtype)); env.reset(seed=0); env.step(0) six times.
  // No transcendental function is involved, so the results must be bit-identical.
  struct Case {
    DType dtype;
    std::vector<std::vector<float>> obs;
    std::vector<double> mean;
    std::vector<double> var;
  };
  const std::vector<Case> cases = {
      {DType::kFloat64,
       {{0.0f, -0.0078083835542202f, -0.009284638799726963f},
        {0.999772310256958f, 0.9993386268615723f, 0.9980406165122986f},
        {1.3641273975372314f, 1.364102840423584f, 1.363995909690857f},
        {1.5362900495529175f, 1.5362911224365234f, 1.536272406578064f},
        {1.699458360671997f, 1.699461817741394f, 1.699459195137024f},
        {1.7870330810546875f, 1.7870359420776367f, 1.7870365381240845f},
        {1.828603982925415f, 1.828606128692627f, 1.828607201576233f}},
       {6.585620205425636, 5.335638062313396, 4.085655919201154},
       {38.964158873426896, 38.96394599685607, 38.96377776186689}},
      {DType::kUInt8,
       {{0.0f, 0.009958923794329166f, 0.009989683516323566f},
        {1.0000499486923218f, 1.000041127204895f, 1.0000145435333252f},
        {1.2247754335403442f, 1.224766731262207f, 1.2247525453567505f},
        {1.3416608572006226f, 1.3416544198989868f, 1.3416454792022705f},
        {1.4142277240753174f, 1.4142228364944458f, 1.4142167568206787f},
        {1.4638605117797852f, 1.4638569355010986f, 1.4638524055480957f},
        {1.5000079870224f, 1.5000051259994507f, 1.5000017881393433f}},
       {110.99841430836703, 121.99825716775476, 132.99810002714247},
       {5476.097796088458, 5476.134409328072, 5476.174479611771}}};
  for (const auto& c : cases) {
    INFO("dtype " << dtype_name(c.dtype));
    NormalizeObservation env(std::make_unique<RampEnv>(c.dtype));
    std::vector<std::vector<float>> got = {floats(env.reset(0).observation)};
    for (int t = 0; t < 6; ++t) got.push_back(floats(env.step(action(0)).observation));
    REQUIRE(got == c.obs);
    REQUIRE(env.mean() == c.mean);
    REQUIRE(env.var() == c.var);
    REQUIRE(env.count() == 7.0001);
  }
}

TEST_CASE("NormalizeObservation freezes, restores its statistics and checks its inputs",
          "[wrappers]") {
  NormalizeObservation env(std::make_unique<RampEnv>(DType::kFloat64));
  env.reset();
  env.step(action(0));
  const auto mean = env.mean();
  const auto var = env.var();
  const double count = env.count();
  env.set_update_running_mean(false);
  REQUIRE_FALSE(env.update_running_mean());
  const auto frozen = floats(env.step(action(0)).observation);
  REQUIRE(env.mean() == mean);
  REQUIRE(env.count() == count);
  // Frozen statistics normalize with the saved mean and variance.
  const double raw = 0.5 * 2 * 2 - 1.25 * 1 + 0.1 * 2;
  REQUIRE(frozen[1] == static_cast<float>((raw - mean[1]) / std::sqrt(var[1] + 1e-8)));

  // Restored statistics give the same outputs as the env they came from.
  NormalizeObservation restored(std::make_unique<RampEnv>(DType::kFloat64));
  restored.set_running_stats(mean, var, count);
  restored.set_update_running_mean(false);
  restored.reset();
  restored.step(action(0));
  REQUIRE(floats(restored.step(action(0)).observation) == frozen);

  REQUIRE_THROWS_WITH(restored.set_running_stats({0.0}, var, 1.0),
                      Catch::Contains("mean has 1 and var 3 elements"));
  REQUIRE_THROWS_WITH(restored.set_running_stats(mean, {1.0, -1.0, 1.0}, 1.0),
                      Catch::Contains("var[1]"));
  REQUIRE_THROWS_WITH(NormalizeObservation(std::make_unique<CountdownEnv>(1), 0.0),
                      Catch::Contains("epsilon must be > 0"));
  REQUIRE_THROWS_WITH(NormalizeObservation(std::make_unique<ClockEnv>()),
                      Catch::Contains("Discrete(8)") && Catch::Contains("only a Box"));
}

// ---------------------------------------------------------------------------------------------
// FrameStackObservation

TEST_CASE("FrameStackObservation stacks the last observations, oldest first", "[wrappers]") {
  SECTION("reset padding repeats the reset observation") {
    FrameStackObservation env(std::make_unique<CountdownEnv>(100), 3);
    REQUIRE(env.observation_space().to_string() == "Box(-inf, inf, (3, 1), float32)");
    REQUIRE(env.padding_type() == "reset");
    REQUIRE(floats(env.reset().observation) == std::vector<float>{0, 0, 0});
    REQUIRE(floats(env.step(action(0)).observation) == std::vector<float>{0, 0, 1});
    REQUIRE(floats(env.step(action(0)).observation) == std::vector<float>{0, 1, 2});
    REQUIRE(floats(env.step(action(0)).observation) == std::vector<float>{1, 2, 3});
    REQUIRE(floats(env.step(action(0)).observation) == std::vector<float>{2, 3, 4});
    // A new episode forgets the old frames.
    REQUIRE(floats(env.reset().observation) == std::vector<float>{0, 0, 0});
    REQUIRE(floats(env.step(action(0)).observation) == std::vector<float>{0, 0, 1});
  }
  SECTION("zero padding is 0 clipped into the bounds, as create_zero_array") {
    // Box(1, 100): 0 is below the bounds, so the padding is 1; the reset observation 0 is out of
    // the space, which does not matter here.
    FrameStackObservation env(std::make_unique<CountdownEnv>(100, true), 3, "zero");
    REQUIRE(env.observation_space().to_string() == "Box(1.0, 100.0, (3, 1), float32)");
    REQUIRE(floats(env.reset().observation) == std::vector<float>{1, 1, 0});
    REQUIRE(floats(env.step(action(0)).observation) == std::vector<float>{1, 0, 1});
  }
  SECTION("a custom padding observation") {
    FrameStackObservation env(std::make_unique<CountdownEnv>(100), 2,
                              Value(Array::from_vector<float>({-7.0F})));
    REQUIRE(env.padding_type() == "_custom");
    REQUIRE(floats(env.reset().observation) == std::vector<float>{-7, 0});
    REQUIRE(floats(env.step(action(0)).observation) == std::vector<float>{0, 1});
  }
  SECTION("stack_size 1 is the observation with a leading axis") {
    FrameStackObservation env(std::make_unique<CountdownEnv>(100), 1);
    REQUIRE(floats(env.reset().observation) == std::vector<float>{0});
    REQUIRE(floats(env.step(action(0)).observation) == std::vector<float>{1});
  }
}

TEST_CASE("FrameStackObservation's space is Gymnasium's batch_space", "[wrappers]") {
  // gymnasium 1.4.0: FrameStackObservation(gym.make("CartPole-v1"), 4).observation_space
  //   -> Box([[-4.8 -inf -0.41887903 -inf] x4], [[4.8 inf 0.41887903 inf] x4], (4, 4), float32)
  FrameStackObservation env(make("CartPole-v1"), 4);
  const auto& box = dynamic_cast<const Box&>(env.observation_space());
  REQUIRE(box.shape() == Shape{4, 4});
  REQUIRE(box.dtype() == DType::kFloat32);
  const auto& inner = dynamic_cast<const Box&>(env.env().observation_space());
  for (std::size_t k = 0; k < 4; ++k) {
    for (std::size_t i = 0; i < 4; ++i) {
      REQUIRE(box.low()[k * 4 + i] == inner.low()[i]);
      REQUIRE(box.high()[k * 4 + i] == inner.high()[i]);
    }
  }
  const Value first = env.reset(42).observation;
  REQUIRE(env.observation_space().contains(first));
  const auto f = floats(first);
  // seed 42's reset observation (docs/envs.md, CartPole-v1), repeated.
  for (std::size_t k = 0; k < 4; ++k) REQUIRE(f[k * 4] == Approx(0.0273956).margin(1e-6));

  // Discrete stacks into a MultiDiscrete, as batch_space does.
  FrameStackObservation clock(std::make_unique<ClockEnv>(), 3, "zero");
  REQUIRE(clock.observation_space().to_string() == "MultiDiscrete([8 8 8])");
  REQUIRE(clock.reset().observation.array().as<std::int64_t>()[2] == 3);
  const Value stacked = clock.step(action(0)).observation;
  REQUIRE(clock.observation_space().contains(stacked));
  const auto hours = stacked.array().as<std::int64_t>();
  REQUIRE(std::vector<std::int64_t>(hours.begin(), hours.end()) ==
          std::vector<std::int64_t>{0, 3, 4});

  REQUIRE_THROWS_WITH(FrameStackObservation(make("CartPole-v1"), 0),
                      Catch::Contains("stack_size must be greater than zero, got 0"));
  REQUIRE_THROWS_WITH(FrameStackObservation(make("CartPole-v1"), 2, "same"),
                      Catch::Contains("unexpected padding_type 'same'"));
  REQUIRE_THROWS_WITH(
      FrameStackObservation(make("CartPole-v1"), 2, Value(Array::from_vector<float>({0.0F}))),
      Catch::Contains("is not in the observation space"));
}

// ---------------------------------------------------------------------------------------------
// The packed path

TEST_CASE("The wrappers' packed step path allocates nothing", "[wrappers]") {
  auto stack = std::make_unique<FrameStackObservation>(
      std::make_unique<NormalizeObservation>(make("CartPole-v1")), 4);
  Env& env = *stack;
  std::vector<std::byte> observation(env.observation_space().packed_bytes());
  std::vector<std::byte> act(env.action_space().packed_bytes());
  Info info;
  env.reset(observation, info, 3);
  env.step(act, observation, info);  // first step: the passive checker's one-off checks
  long allocations = 0;
  {
    AllocationCounter counter;
    for (int t = 0; t < 8; ++t) {
      as_span<std::int64_t>(std::span<std::byte>(act))[0] = t % 2;
      const StepOutcome out = env.step(act, observation, info);
      if (out.terminated || out.truncated) break;
    }
    allocations = counter.count();
  }
  REQUIRE(allocations == 0);
}
