// The env checker: check_env passes on correct envs and names the check that each deliberate API
// violation breaks; PassiveEnvChecker warns on the first reset, step and render.

#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "envs/registry.hpp"
#include "envs/wrappers/wrappers.hpp"
#include "tests/envs/warning_capture.hpp"

using namespace locus::envs;
using locus::envs::testing::WarningCapture;

namespace {

enum class Fault {
  kNone,
  kResetObsOutOfSpace,   // reset writes an observation outside the observation space
  kStepObsOutOfSpace,    // step writes an observation outside the observation space
  kNanReward,            // step returns a NaN reward
  kResetIgnoresRng,      // the initial state comes from a counter, not from np_random()
  kResetDrawsVary,       // reset consumes a varying number of draws from np_random()
  kIgnoresSeed,          // np_random() is the env's own generator, reseeded with a fixed seed
  kStepUsesCounter,      // step's dynamics depend on a counter kept across episodes
  kLateNondeterminism,   // from the third step of an episode on, draws from std::random_device
  kTruncatesAtOnce,      // every step is truncated
  kInfiniteObservation,  // an unbounded Box observation that becomes infinite (allowed, warned)
  kConstantReset,        // the same initial observation for every seed (allowed, warned)
};

// A point on a line with a noisy push: obs Box(-10, 10, (2,)) = (x, velocity), action Discrete(2)
// pushes left or right, reward -|x|, terminated after 7 steps. Faults break one rule each.
class FaultyEnv final : public Env {
 public:
  explicit FaultyEnv(Fault fault = Fault::kNone, const Kwargs& kwargs = Kwargs::object())
      : fault_(fault), own_rng_(7) {
    KwargsReader reader(kwargs, "Faulty");
    const std::string render_mode = reader.get<std::string>("render_mode", "");
    reader.finish();
    const double bound = fault == Fault::kInfiniteObservation ? INFINITY : 10.0;
    set_observation_space(std::make_shared<Box>(-bound, bound, Shape{2}, DType::kFloat32));
    set_action_space(std::make_shared<Discrete>(2));
    metadata_.render_modes = {"ansi"};
    metadata_.render_fps = 30;
    if (!render_mode.empty()) set_render_mode(render_mode);
  }
  std::string name() const override { return "FaultyEnv"; }
  std::string render() override { return "x=" + std::to_string(x_); }
  Rng& np_random() override { return fault_ == Fault::kIgnoresSeed ? own_rng_ : Env::np_random(); }

 protected:
  void reset_impl(const std::optional<Seed>&, const Kwargs&, std::span<std::byte> observation,
                  Info& info) override {
    ++resets_;
    if (fault_ == Fault::kIgnoresSeed) own_rng_ = Rng(7);
    x_ = np_random().uniform(-1, 1);
    v_ = np_random().uniform(-0.1, 0.1);
    if (fault_ == Fault::kResetIgnoresRng) x_ = 0.01 * static_cast<double>(resets_);
    if (fault_ == Fault::kResetDrawsVary) {
      for (int i = 0; i < resets_ % 3; ++i) np_random().random();
      x_ = v_ = 0;
    }
    if (fault_ == Fault::kConstantReset) x_ = v_ = 0;
    if (fault_ == Fault::kResetObsOutOfSpace) x_ = 20;
    t_ = 0;
    write(observation);
    info.set("x", x_);
  }
  StepOutcome step_impl(std::span<const std::byte> action, std::span<std::byte> observation,
                        Info& info) override {
    ++t_;
    ++steps_;
    const double push = as_span<const std::int64_t>(action)[0] == 1 ? 0.05 : -0.05;
    v_ += push + np_random().normal(0.0, 0.01);
    if (fault_ == Fault::kStepUsesCounter) v_ += 1e-3 * static_cast<double>(steps_ % 5);
    if (fault_ == Fault::kLateNondeterminism && t_ >= 3) {
      v_ += std::uniform_real_distribution<double>(0.0, 1e-3)(device_);
    }
    x_ += v_;
    if (fault_ == Fault::kStepObsOutOfSpace) x_ = 20;
    if (fault_ == Fault::kInfiniteObservation) x_ = INFINITY;
    write(observation);
    info.set("x", x_);
    double reward = -std::abs(x_);
    if (fault_ == Fault::kNanReward) reward = NAN;
    if (fault_ == Fault::kInfiniteObservation) reward = 0;
    return {reward, t_ >= 7, fault_ == Fault::kTruncatesAtOnce};
  }

 private:
  void write(std::span<std::byte> observation) const {
    auto obs = as_span<float>(observation);
    obs[0] = static_cast<float>(x_);
    obs[1] = static_cast<float>(v_);
  }
  Fault fault_;
  Rng own_rng_;
  std::random_device device_;
  double x_ = 0;
  double v_ = 0;
  int t_ = 0;
  int resets_ = 0;
  int steps_ = 0;
};

// The env with a spec (as make() would give it), so that check_env also makes fresh copies to
// check the render modes and close().
std::unique_ptr<Env> with_spec(Fault fault, bool nondeterministic = false) {
  auto env = std::make_unique<FaultyEnv>(fault);
  auto spec = std::make_shared<EnvSpec>();
  spec->id = "test/Faulty-v0";
  spec->nondeterministic = nondeterministic;
  spec->entry_point = [fault](const Kwargs& kwargs) {
    return std::unique_ptr<Env>(std::make_unique<FaultyEnv>(fault, kwargs));
  };
  env->set_spec(spec);
  return env;
}

bool has_warning(const CheckResult& result, const std::string& part) {
  for (const auto& w : result.warnings) {
    if (w.find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("check_env passes on CartPole-v1, wrapped or not", "[checker]") {
  auto env = make("CartPole-v1");
  const CheckResult wrapped = check_env(*env);
  REQUIRE(wrapped.steps == 200);
  REQUIRE(wrapped.episodes > 0);
  REQUIRE(has_warning(wrapped, "different from the unwrapped version"));
  // Gymnasium warns about CartPole's infinite velocity bounds too.
  REQUIRE(has_warning(wrapped, "A Box observation space minimum value is -infinity"));
  REQUIRE(has_warning(wrapped, "A Box observation space maximum value is infinity"));
  REQUIRE(wrapped.passed.size() >= 6);

  const CheckResult raw = check_env(env->unwrapped(), {.seed = 7, .steps = 50});
  REQUIRE_FALSE(has_warning(raw, "different from the unwrapped version"));
  REQUIRE(raw.steps == 50);
}

TEST_CASE("check_env passes on a correct env and checks its render modes", "[checker]") {
  auto env = with_spec(Fault::kNone);
  const CheckResult result = check_env(*env);
  REQUIRE(result.warnings.empty());
  bool render_checked = false;
  for (const auto& line : result.passed) {
    render_checked = render_checked || line.find("render_mode='ansi'") != std::string::npos;
  }
  REQUIRE(render_checked);
  // Without a spec the other render modes cannot be made, which Gymnasium warns about.
  FaultyEnv plain;
  REQUIRE(has_warning(check_env(plain), "not having a spec"));
}

TEST_CASE("check_env names the check that each API violation breaks", "[checker]") {
  struct Case {
    Fault fault;
    std::string message;
  };
  const std::vector<Case> cases = {
      {Fault::kResetObsOutOfSpace,
       "check failed: reset: the observation returned by `env.reset()`"},
      {Fault::kStepObsOutOfSpace,
       "check failed: step: at the first step after reset the "
       "observation"},
      {Fault::kNanReward, "check failed: step: at the first step after reset the reward is nan"},
      {Fault::kResetIgnoresRng,
       "check failed: reset(seed) determinism: two calls of `env.reset(seed=123)` gave different "
       "observations"},
      {Fault::kResetDrawsVary,
       "check failed: reset(seed) determinism: np_random() is in different states"},
      {Fault::kIgnoresSeed,
       "check failed: reset(seed) seeding: np_random() is in the same state "
       "after `env.reset(seed=456)`"},
      {Fault::kStepUsesCounter, "check failed: step determinism: the observations"},
      {Fault::kLateNondeterminism, "check failed: seeded rollout determinism"},
      {Fault::kTruncatesAtOnce,
       "check failed: step determinism: the environment truncates after "
       "1 step"},
  };
  for (const auto& c : cases) {
    INFO("fault " << static_cast<int>(c.fault));
    auto env = with_spec(c.fault);
    REQUIRE_THROWS_AS(check_env(*env), CheckError);
    REQUIRE_THROWS_WITH(check_env(*with_spec(c.fault)), Catch::Contains(c.message));
  }
}

TEST_CASE("check_env warns about allowed oddities", "[checker]") {
  const CheckResult infinite = check_env(*with_spec(Fault::kInfiniteObservation));
  REQUIRE(has_warning(infinite, "maximum value is infinity"));
  REQUIRE(
      has_warning(infinite, "The obs returned by the `step()` method contains NaN or infinity"));
  const CheckResult constant = check_env(*with_spec(Fault::kConstantReset));
  REQUIRE(has_warning(constant, "five different seeds gave the same observation"));
  // A spec marked nondeterministic skips the determinism checks, as Gymnasium does.
  REQUIRE_NOTHROW(check_env(*with_spec(Fault::kResetIgnoresRng, true)));
  REQUIRE_NOTHROW(check_env(*with_spec(Fault::kStepUsesCounter, true)));
}

TEST_CASE("check_env rejects an empty composite space", "[checker]") {
  class EmptyActionsEnv final : public Env {
   public:
    EmptyActionsEnv() {
      set_observation_space(std::make_shared<Discrete>(2));
      set_action_space(std::make_shared<Tuple>(std::vector<SpacePtr>{}));
    }
    std::string name() const override { return "EmptyActionsEnv"; }

   protected:
    void reset_impl(const std::optional<Seed>&, const Kwargs&, std::span<std::byte> obs,
                    Info&) override {
      as_span<std::int64_t>(obs)[0] = 0;
    }
    StepOutcome step_impl(std::span<const std::byte>, std::span<std::byte> obs, Info&) override {
      as_span<std::int64_t>(obs)[0] = 1;
      return {};
    }
  };
  EmptyActionsEnv env;
  REQUIRE_THROWS_WITH(check_env(env),
                      Catch::Contains("check failed: action space: An empty Tuple action space"));
  REQUIRE_THROWS_AS(PassiveEnvChecker(std::make_unique<EmptyActionsEnv>()), CheckError);
}

TEST_CASE("Every registered environment passes check_env", "[checker]") {
  for (const auto& spec : Registry::global().all()) {
    INFO(spec->id);
    auto env = make(spec->id);
    CHECK_NOTHROW(check_env(env->unwrapped(), {.steps = 100}));
  }
}

TEST_CASE("PassiveEnvChecker warns once on the first reset and step", "[checker]") {
  SECTION("an observation outside the space at reset") {
    WarningCapture capture;
    PassiveEnvChecker env(std::make_unique<FaultyEnv>(Fault::kResetObsOutOfSpace));
    env.reset(1);
    REQUIRE(env.checked_reset());
    REQUIRE(
        capture.saw("The obs returned by the `reset()` method is not within the observation "
                    "space"));
    WarningCapture::clear();
    env.reset(2);
    REQUIRE(WarningCapture::messages().empty());  // only the first reset is checked
  }
  SECTION("a NaN reward") {
    WarningCapture capture;
    PassiveEnvChecker env(std::make_unique<FaultyEnv>(Fault::kNanReward));
    env.reset(1);
    REQUIRE(WarningCapture::messages().empty());
    const auto r = env.step(Array::scalar<std::int64_t>(1));
    REQUIRE(std::isnan(r.reward));  // passed through unchanged
    REQUIRE(capture.saw("The reward is a NaN value."));
    WarningCapture::clear();
    env.step(Array::scalar<std::int64_t>(1));
    REQUIRE(WarningCapture::messages().empty());
  }
  SECTION("an observation outside the space at step") {
    WarningCapture capture;
    PassiveEnvChecker env(std::make_unique<FaultyEnv>(Fault::kStepObsOutOfSpace));
    env.reset(1);
    env.step(Array::scalar<std::int64_t>(0));
    REQUIRE(
        capture.saw("The obs returned by the `step()` method is not within the observation "
                    "space"));
  }
  SECTION("render without a declared fps") {
    class NoFpsEnv final : public Env {
     public:
      NoFpsEnv() {
        set_observation_space(std::make_shared<Discrete>(2));
        set_action_space(std::make_shared<Discrete>(2));
        metadata_.render_modes = {"ansi"};
      }
      std::string name() const override { return "NoFpsEnv"; }
      std::string render() override { return "frame"; }

     protected:
      void reset_impl(const std::optional<Seed>&, const Kwargs&, std::span<std::byte> obs,
                      Info&) override {
        as_span<std::int64_t>(obs)[0] = 0;
      }
      StepOutcome step_impl(std::span<const std::byte>, std::span<std::byte> obs, Info&) override {
        as_span<std::int64_t>(obs)[0] = 1;
        return {};
      }
    };
    WarningCapture capture;
    PassiveEnvChecker env(std::make_unique<NoFpsEnv>());
    REQUIRE(env.render() == "frame");
    REQUIRE(capture.saw("No render fps was declared"));
    WarningCapture::clear();
    REQUIRE(env.render() == "frame");
    REQUIRE(WarningCapture::messages().empty());
  }
  SECTION("a correct env is silent") {
    WarningCapture capture;
    auto env = make("CartPole-v1");
    env->reset(0);
    env->step(Array::scalar<std::int64_t>(0));
    REQUIRE(WarningCapture::messages().empty());
  }
}

TEST_CASE("data_equivalence follows Gymnasium's rules", "[checker]") {
  const Value a = Array::from_vector<float>({1.0F, 2.0F});
  const Value b = Array::from_vector<float>({1.0F, 2.000001F});
  REQUIRE(data_equivalence(a, b));
  REQUIRE_FALSE(data_equivalence(a, b, true));
  REQUIRE_FALSE(data_equivalence(a, Value(Array::from_vector<double>({1.0, 2.0}))));  // dtype
  REQUIRE_FALSE(data_equivalence(Value(Array::from_vector<float>({NAN})),
                                 Value(Array::from_vector<float>({NAN}))));
  REQUIRE(data_equivalence(Value(Array::from_vector<float>({INFINITY})),
                           Value(Array::from_vector<float>({INFINITY}))));
  Info x;
  x.set("n", 1);
  x.set("f", 0.5);
  Info y;
  y.set("f", 0.5);
  y.set("n", 1);
  REQUIRE(data_equivalence(x, y));  // key order does not matter
  y.set("n", 1.0);                  // a float is not an int
  REQUIRE_FALSE(data_equivalence(x, y));
}
