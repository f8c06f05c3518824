// Acrobot-v1, MountainCar-v0, MountainCarContinuous-v0 and Pendulum-v1 against Gymnasium: golden
// values computed with gymnasium 1.4.0 / numpy 2.4 (`gym.make(id).reset(seed=...)` and the steps
// listed), plus registration, determinism, bounds, error handling and rendering. The full
// step-by-step comparison over many seeds is the oracle test
// (tests/envs/gymnasium_oracle_classic_control.py).
// Tolerance 1e-6 on float32 observations: libm and numpy may differ by an ulp in sin/cos, which can
// move the last float32 bit; flags are compared exactly, rewards to 1e-12.

#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "envs/classic_control/acrobot.hpp"
#include "envs/classic_control/mountain_car.hpp"
#include "envs/classic_control/pendulum.hpp"
#include "envs/registry.hpp"
#include "tests/envs/observation_util.hpp"

using namespace locus::envs;
using locus::envs::testing::observation_of;
using locus::envs::testing::require_close;

namespace {

Value discrete(std::int64_t a) {
  return Array::scalar<std::int64_t>(a);
}

Value box(float a) {
  return Array::from_vector<float>({a});
}

struct GoldenStep {
  Value action;
  std::vector<double> observation;
  double reward;
};

// reset(seed=0), reset(seed=42) and three steps after reset(seed=42), all from Gymnasium.
void require_golden(const std::string& id, const std::vector<double>& reset0,
                    const std::vector<double>& reset42, const std::vector<GoldenStep>& steps) {
  auto env = make(id);
  require_close(observation_of(env->reset(0).observation), reset0);
  require_close(observation_of(env->reset(42).observation), reset42);
  for (const auto& step : steps) {
    const StepResult r = env->step(step.action);
    require_close(observation_of(r.observation), step.observation);
    REQUIRE(r.reward == Approx(step.reward).epsilon(1e-12));
    REQUIRE_FALSE(r.terminated);
    REQUIRE_FALSE(r.truncated);
  }
}

// Observations and flags of a rollout under seeded random actions, resetting (unseeded) at each
// episode end.
std::vector<float> rollout(const std::string& id, std::uint64_t seed, int steps) {
  auto env = make(id);
  std::vector<float> trajectory = observation_of(env->reset(seed).observation);
  Space& actions = env->action_space();
  actions.seed(seed);
  for (int t = 0; t < steps; ++t) {
    const StepResult r = env->step(actions.sample());
    const auto obs = observation_of(r.observation);
    trajectory.insert(trajectory.end(), obs.begin(), obs.end());
    trajectory.push_back(static_cast<float>(r.reward));
    trajectory.push_back(r.terminated ? 1.0F : 0.0F);
    if (r.terminated || r.truncated) {
      const auto first = observation_of(env->reset().observation);
      trajectory.insert(trajectory.end(), first.begin(), first.end());
    }
  }
  return trajectory;
}

// Runs `steps` random steps and requires every observation (reset ones included) to lie in the
// observation space; returns the number of episodes that ended.
int episodes_within_bounds(const std::string& id, std::uint64_t seed, int steps) {
  auto env = make(id);
  env->action_space().seed(seed);
  REQUIRE(env->observation_space().contains(env->reset(seed).observation));
  int episodes = 0;
  for (int t = 0; t < steps; ++t) {
    const StepResult r = env->step(env->action_space().sample());
    INFO(id << " step " << t << ": " << r.observation.to_string());
    REQUIRE(env->observation_space().contains(r.observation));
    if (r.terminated || r.truncated) {
      ++episodes;
      REQUIRE(env->observation_space().contains(env->reset().observation));
    }
  }
  return episodes;
}

const std::vector<std::string> kIds = {"Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0",
                                       "Pendulum-v1"};

}  // namespace

TEST_CASE("classic control: envs are registered as Gymnasium registers them",
          "[classic_control][registry]") {
  struct Expected {
    std::string id;
    std::int64_t max_episode_steps;
    std::optional<double> reward_threshold;
    std::string str;
    std::string action_space;
  };
  const std::vector<Expected> expected = {
      {"Acrobot-v1", 500, -100.0,
       "<TimeLimit<OrderEnforcing<PassiveEnvChecker<AcrobotEnv<Acrobot-v1>>>>>", "Discrete(3)"},
      {"MountainCar-v0", 200, -110.0,
       "<TimeLimit<OrderEnforcing<PassiveEnvChecker<MountainCarEnv<MountainCar-v0>>>>>",
       "Discrete(3)"},
      {"MountainCarContinuous-v0", 999, 90.0,
       "<TimeLimit<OrderEnforcing<PassiveEnvChecker<Continuous_MountainCarEnv<"
       "MountainCarContinuous-v0>>>>>",
       "Box(-1.0, 1.0, (1,), float32)"},
      {"Pendulum-v1", 200, std::nullopt,
       "<TimeLimit<OrderEnforcing<PassiveEnvChecker<PendulumEnv<Pendulum-v1>>>>>",
       "Box(-2.0, 2.0, (1,), float32)"},
  };
  for (const auto& e : expected) {
    INFO(e.id);
    auto spec = Registry::global().spec(e.id);
    REQUIRE(spec->max_episode_steps == e.max_episode_steps);
    REQUIRE(spec->reward_threshold == e.reward_threshold);
    auto env = make(e.id);
    REQUIRE(env->to_string() == e.str);
    REQUIRE(env->action_space().to_string() == e.action_space);
    const auto* obs = dynamic_cast<const Box*>(&env->observation_space());
    REQUIRE(obs != nullptr);
    REQUIRE(obs->dtype() == DType::kFloat32);
  }
  // Observation bounds, as Gymnasium's repr shows them.
  auto acrobot = make("Acrobot-v1");
  REQUIRE(acrobot->observation_space().to_string() ==
          "Box([ -1.        -1.        -1.        -1.       -12.566371 -28.274334], "
          "[ 1.        1.        1.        1.       12.566371 28.274334], (6,), float32)");
  REQUIRE(make("MountainCar-v0")->observation_space().to_string() ==
          "Box([-1.2  -0.07], [0.6  0.07], (2,), float32)");
  REQUIRE(make("Pendulum-v1")->observation_space().to_string() ==
          "Box([-1. -1. -8.], [1. 1. 8.], (3,), float32)");
}

TEST_CASE("classic control: Acrobot-v1 matches Gymnasium's golden values",
          "[classic_control][acrobot]") {
  require_golden("Acrobot-v1",
                 {0.9996248483657837, 0.027388911694288254, 0.9989402294158936,
                  -0.04602639377117157, -0.09180529415607452, -0.0966944694519043},
                 {0.99849933385849, 0.0547637976706028, 0.9999252557754517, -0.012224007397890091,
                  0.07171958684921265, 0.039473604410886765},
                 {{discrete(2),
                   {0.9988263249397278, 0.04843549802899361, 0.9993363618850708,
                    0.03642500936985016, -0.13198231160640717, 0.43717727065086365},
                   -1.0},
                  {discrete(2),
                   {0.9999859929084778, 0.0052958703599870205, 0.9880364537239075,
                    0.15422068536281586, -0.286724716424942, 0.7189522981643677},
                   -1.0},
                  {discrete(0),
                   {0.9994416832923889, -0.03341127559542656, 0.9707790017127991,
                    0.23997528851032257, -0.09081321209669113, 0.1370818018913269},
                   -1.0}});
  // Gymnasium's docstring example: reset(seed=123, options={"low": -0.2, "high": 0.2}).
  auto env = make("Acrobot-v1");
  require_close(observation_of(env->reset(123, {{"low", -0.2}, {"high", 0.2}}).observation),
                {0.997340977191925, 0.07287608087062836, 0.9841161966323853, -0.17752565443515778,
                 -0.11185605078935623, -0.12625128030776978});
}

TEST_CASE("classic control: MountainCar-v0 matches Gymnasium's golden values",
          "[classic_control][mountain_car]") {
  require_golden("MountainCar-v0", {-0.47260767221450806, 0.0}, {-0.4452087879180908, 0.0},
                 {{discrete(2), {-0.444791316986084, 0.00041747934301383793}, -1.0},
                  {discrete(2), {-0.44395938515663147, 0.0008319141925312579}, -1.0},
                  {discrete(0), {-0.4447191059589386, -0.0007597148651257157}, -1.0}});
  auto env = make("MountainCar-v0");
  require_close(observation_of(env->reset(7, {{"low", -0.2}, {"high", 0.2}}).observation),
                {0.050038184970617294, 0.0});
}

TEST_CASE("classic control: MountainCarContinuous-v0 matches Gymnasium's golden values",
          "[classic_control][mountain_car]") {
  require_golden("MountainCarContinuous-v0", {-0.47260767221450806, 0.0},
                 {-0.4452087879180908, 0.0},
                 {{box(1.0F), {-0.4442913234233856, 0.0009174793376587331}, -0.1},
                  {box(-0.5F), {-0.4447130560874939, -0.00042173085967078805}, -0.025},
                  {box(0.25F), {-0.4453459084033966, -0.0006328666931949556}, -0.00625}});
}

TEST_CASE("classic control: Pendulum-v1 matches Gymnasium's golden values",
          "[classic_control][pendulum]") {
  require_golden("Pendulum-v1", {0.652016282081604, 0.758204996585846, -0.46042656898498535},
                 {-0.14995256066322327, 0.9886931777000427, -0.12224312126636505},
                 {{box(2.0F),
                   {-0.19522231817245483, 0.9807590246200562, 0.919276773929596},
                   -2.968425241430033},
                  {box(-1.5F),
                   {-0.2647806406021118, 0.9643086791038513, 1.4298460483551025},
                   -3.2100371953612834},
                  {box(0.5F),
                   {-0.3703449070453644, 0.9288943409919739, 2.2280776500701904},
                   -3.585781229488397}});
  auto env = make("Pendulum-v1");
  require_close(observation_of(env->reset(7, {{"x_init", 0.5}, {"y_init", 0.25}}).observation),
                {0.9921857714653015, 0.12476945668458939, 0.19860689342021942});
  auto lighter = make("Pendulum-v1", {{"g", 9.81}});
  lighter->reset(42);
  require_close(observation_of(lighter->step(box(1.0F)).observation),
                {-0.18716926872730255, 0.9823276996612549, 0.7551878690719604});
}

TEST_CASE("classic control: envs are deterministic under a seed and differ across seeds",
          "[classic_control]") {
  for (const auto& id : kIds) {
    INFO(id);
    const auto a = rollout(id, 3, 600);
    REQUIRE(a == rollout(id, 3, 600));
    REQUIRE(a != rollout(id, 4, 600));
  }
}

TEST_CASE("classic control: observations stay in the observation space", "[classic_control]") {
  // Random actions rarely reach the goals, so episodes here end by the time limit; the oracle
  // test covers terminal observations.
  REQUIRE(episodes_within_bounds("Acrobot-v1", 11, 2000) >= 3);
  REQUIRE(episodes_within_bounds("MountainCar-v0", 11, 2000) >= 9);
  REQUIRE(episodes_within_bounds("MountainCarContinuous-v0", 11, 3000) >= 3);
  REQUIRE(episodes_within_bounds("Pendulum-v1", 11, 2000) == 10);
}

TEST_CASE("classic control: MountainCar-v0 reaches the flag by pushing along its velocity",
          "[classic_control][mountain_car]") {
  auto env = make("MountainCar-v0");
  auto obs = observation_of(env->reset(0).observation);
  StepResult r;
  int steps = 0;
  do {
    r = env->step(discrete(obs[1] > 0 ? 2 : 0));
    obs = observation_of(r.observation);
    REQUIRE(r.reward == -1.0);  // the terminal step costs -1 too, as in Gymnasium
    ++steps;
  } while (!r.terminated && !r.truncated);
  REQUIRE(r.terminated);
  REQUIRE_FALSE(r.truncated);
  REQUIRE(steps < 200);
  REQUIRE(obs[0] >= 0.5F);
}

TEST_CASE("classic control: MountainCar-v0 stops dead at the left wall",
          "[classic_control][mountain_car]") {
  // Released at rest at 0 and pushed left, the car rolls into the left wall (step 32 in
  // Gymnasium).
  auto env = make("MountainCar-v0");
  auto& car = dynamic_cast<MountainCarEnv&>(env->unwrapped());
  env->reset(0, {{"low", 0.0}, {"high", 0.0}});
  std::vector<float> obs;
  bool hit = false;
  int steps = 0;
  while (steps < 100 && !hit) {
    obs = observation_of(env->step(discrete(0)).observation);
    hit = car.state()[0] == MountainCarEnv::kMinPosition;
    ++steps;
  }
  REQUIRE(steps == 32);
  REQUIRE(hit);
  REQUIRE(car.state()[1] == 0.0);
  REQUIRE(obs[1] == 0.0F);
}

TEST_CASE("classic control: MountainCar goal_velocity raises the bar for termination",
          "[classic_control][mountain_car]") {
  for (const std::string id : {"MountainCar-v0", "MountainCarContinuous-v0"}) {
    INFO(id);
    auto env = make(id, {{"goal_velocity", 1.0}});  // beyond the car's top speed
    const bool continuous = id == "MountainCarContinuous-v0";
    auto obs = observation_of(env->reset(0).observation);
    bool terminated = false;
    bool passed_goal = false;
    for (int t = 0; t < 300; ++t) {
      const bool right = obs[1] > 0;
      const StepResult r =
          env->step(continuous ? box(right ? 1.0F : -1.0F) : discrete(right ? 2 : 0));
      obs = observation_of(r.observation);
      passed_goal = passed_goal || obs[0] >= 0.5F;
      terminated = terminated || r.terminated;
      if (r.truncated) break;
    }
    REQUIRE(passed_goal);
    REQUIRE_FALSE(terminated);
  }
}

TEST_CASE("classic control: MountainCarContinuous-v0 pays 100 at the goal minus the action cost",
          "[classic_control][mountain_car]") {
  auto env = make("MountainCarContinuous-v0");
  auto obs = observation_of(env->reset(0).observation);
  StepResult r;
  float force = 0;
  do {
    force = obs[1] > 0 ? 0.75F : -0.75F;
    r = env->step(box(force));
    obs = observation_of(r.observation);
    if (!r.terminated) REQUIRE(r.reward == Approx(-0.1 * force * force).epsilon(1e-12));
  } while (!r.terminated && !r.truncated);
  REQUIRE(r.terminated);
  REQUIRE(r.reward == Approx(100.0 - 0.1 * 0.75 * 0.75).epsilon(1e-12));
}

TEST_CASE("classic control: Acrobot-v1 terminates when the tip rises above the line",
          "[classic_control][acrobot]") {
  auto env = make("Acrobot-v1");
  auto& acrobot = dynamic_cast<AcrobotEnv&>(env->unwrapped());
  auto obs = observation_of(env->reset(0).observation);
  StepResult r;
  do {
    r = env->step(discrete(obs[5] > 0 ? 2 : 0));  // pump energy along the second joint
    obs = observation_of(r.observation);
  } while (!r.terminated && !r.truncated);
  REQUIRE(r.terminated);
  REQUIRE(r.reward == 0.0);
  const auto& s = acrobot.state();
  REQUIRE(-std::cos(s[0]) - std::cos(s[1] + s[0]) > 1.0);
  REQUIRE(std::abs(s[0]) <= AcrobotEnv::kPi);
  REQUIRE(std::abs(s[1]) <= AcrobotEnv::kPi);
}

TEST_CASE("classic control: Acrobot-v1 settings: dt, dynamics and torque noise",
          "[classic_control][acrobot]") {
  auto run = [](double dt, AcrobotDynamics dynamics, double noise) {
    auto env = make("Acrobot-v1");
    auto& acrobot = dynamic_cast<AcrobotEnv&>(env->unwrapped());
    acrobot.set_dt(dt);
    acrobot.set_dynamics(dynamics);
    acrobot.set_torque_noise_max(noise);
    std::vector<float> trajectory;
    env->reset(5);
    for (int t = 0; t < 50; ++t) {
      const auto obs = observation_of(env->step(discrete(t % 3)).observation);
      trajectory.insert(trajectory.end(), obs.begin(), obs.end());
    }
    return trajectory;
  };
  const auto book = run(0.2, AcrobotDynamics::kBook, 0.0);
  REQUIRE(book != run(0.2, AcrobotDynamics::kNips, 0.0));
  REQUIRE(book != run(0.1, AcrobotDynamics::kBook, 0.0));
  const auto noisy = run(0.2, AcrobotDynamics::kBook, 0.3);
  REQUIRE(noisy != book);
  REQUIRE(noisy == run(0.2, AcrobotDynamics::kBook, 0.3));  // the noise comes from the seed

  AcrobotEnv acrobot;
  REQUIRE_THROWS_AS(acrobot.set_dt(0.0), InvalidArgumentError);
  REQUIRE_THROWS_AS(acrobot.set_torque_noise_max(-1.0), InvalidArgumentError);
}

TEST_CASE("classic control: Pendulum-v1 never terminates and truncates at 200 steps",
          "[classic_control][pendulum]") {
  auto env = make("Pendulum-v1");
  env->reset(1);
  env->action_space().seed(1);
  StepResult r;
  int steps = 0;
  do {
    r = env->step(env->action_space().sample());
    REQUIRE_FALSE(r.terminated);
    REQUIRE(r.reward <= 0.0);
    // The worst cost: pi^2 + 0.1 * 8^2 + 0.001 * 2^2.
    REQUIRE(r.reward >= -(PendulumEnv::kPi * PendulumEnv::kPi + 6.4 + 0.004) - 1e-9);
    ++steps;
  } while (!r.truncated);
  REQUIRE(steps == 200);
}

TEST_CASE("classic control: Pendulum's angle_normalize follows Python's modulo",
          "[classic_control][pendulum]") {
  REQUIRE(angle_normalize(0.0) == 0.0);
  REQUIRE(angle_normalize(PendulumEnv::kPi) == -PendulumEnv::kPi);
  REQUIRE(angle_normalize(-PendulumEnv::kPi) == -PendulumEnv::kPi);
  REQUIRE(angle_normalize(3 * PendulumEnv::kPi / 2) == Approx(-PendulumEnv::kPi / 2));
  REQUIRE(angle_normalize(-3 * PendulumEnv::kPi / 2) == Approx(PendulumEnv::kPi / 2));
  REQUIRE(angle_normalize(15.904940399849133) == -2.9446155216896237);  // numpy's value
}

TEST_CASE("classic control: envs reject bad kwargs and reset options",
          "[classic_control][errors]") {
  for (const auto& id : kIds) {
    INFO(id);
    REQUIRE_THROWS_AS(make(id, {{"gravity", 3}}), InvalidArgumentError);
    REQUIRE_THROWS_WITH(make(id, {{"gravity", 3}}), Catch::Contains("unknown argument 'gravity'"));
    REQUIRE_THROWS_AS(make(id, {{"render_mode", "human"}}), InvalidArgumentError);
  }
  REQUIRE_THROWS_AS(make("Acrobot-v1", {{"goal_velocity", 0.1}}), InvalidArgumentError);
  REQUIRE_THROWS_AS(make("Pendulum-v1", {{"goal_velocity", 0.1}}), InvalidArgumentError);
  REQUIRE_THROWS_AS(make("MountainCar-v0", {{"g", 9.8}}), InvalidArgumentError);
  REQUIRE_THROWS_AS(make("MountainCar-v0", {{"goal_velocity", "fast"}}), InvalidArgumentError);
  REQUIRE_THROWS_AS(make("Pendulum-v1", {{"g", "heavy"}}), InvalidArgumentError);

  auto acrobot = make("Acrobot-v1");
  REQUIRE_THROWS_WITH(acrobot->reset(0, {{"low", 0.3}, {"high", 0.2}}),
                      Catch::Contains("must not exceed"));
  // Options an env does not read are ignored, as Gymnasium ignores them.
  REQUIRE_NOTHROW(acrobot->reset(0, {{"x_init", 0.3}}));
  auto car = make("MountainCar-v0");
  REQUIRE_THROWS_AS(car->reset(0, {{"low", 0.0}, {"high", -0.5}}), InvalidArgumentError);
  auto pendulum = make("Pendulum-v1");
  REQUIRE_THROWS_WITH(pendulum->reset(0, {{"x_init", -1.0}}), Catch::Contains("x_init"));
  REQUIRE_NOTHROW(pendulum->reset(0, {{"low", -1.0}}));

  // Both continuous envs clip out-of-range actions, as Gymnasium's do (test_gymnasium_compat.cpp);
  // an action of the wrong shape or NaN is refused.
  pendulum->reset(0);
  REQUIRE_THROWS_AS(pendulum->step(Array::from_vector<float>({1.0F, 2.0F})), InvalidActionError);
  auto continuous = make("MountainCarContinuous-v0");
  continuous->reset(0);
  REQUIRE_THROWS_AS(continuous->step(box(std::nanf(""))), InvalidActionError);
  acrobot->reset(0);
  REQUIRE_THROWS_AS(acrobot->step(discrete(3)), InvalidActionError);
}

TEST_CASE("classic control: envs render as text", "[classic_control]") {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"Acrobot-v1", "theta1="},
      {"MountainCar-v0", "position="},
      {"MountainCarContinuous-v0", "velocity="},
      {"Pendulum-v1", "theta_dot="}};
  for (const auto& [id, field] : expected) {
    INFO(id);
    auto env = make(id, {{"render_mode", "ansi"}});
    REQUIRE(env->metadata().render_modes == std::vector<std::string>{"ansi"});
    env->reset(0);
    env->step(env->action_space().sample());
    const std::string frame = env->render();
    REQUIRE(frame.find(field) != std::string::npos);
    REQUIRE(frame.front() == '[');
    REQUIRE(frame.back() == '\n');
  }
  auto car = make("MountainCar-v0", {{"render_mode", "ansi"}});
  car->reset(0);
  const std::string frame = car->render();
  REQUIRE(frame.find('C') < frame.find('F'));  // the car starts left of the flag
}
