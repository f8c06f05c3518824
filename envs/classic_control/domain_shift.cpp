// Domain-shift variants of the classic-control tasks, registered as parameterized tasks so that
// RL continual-learning sequences (envs/sequences/) exist beyond the cognitive tasks: the same
// observation and action spaces, other physics.
//
//   CartPoleDomainShift-v1  CartPole-v1 with the physics as kwargs: gravity (9.8), masscart (1.0),
//                           masspole (0.1), length (0.5, half the pole), force_mag (10.0),
//                           tau (0.02); at the defaults it is CartPole-v1 step for step
//   CartPoleLongPole-v1     length 1.0 (a pole twice as long)
//   CartPoleShortPole-v1    length 0.25
//   CartPoleHeavyPole-v1    masspole 0.5
//   CartPoleLowGravity-v1   gravity 4.9
//   CartPoleHighGravity-v1  gravity 19.6
//   PendulumLowGravity-v1   Pendulum-v1 with g 5.0 (Gymnasium's own `g` kwarg)
//   PendulumHighGravity-v1  Pendulum-v1 with g 15.0
// Each named variant is CartPoleDomainShift-v1 (or Pendulum-v1) with those kwargs as its spec's
// defaults, so make() can still override any of them. The dynamics are Gymnasium's with the
// attributes changed (tests/envs/test_task_sequence.cpp checks values computed by Gymnasium with
// env.unwrapped.length etc. set).

#include <algorithm>

#include "envs/classic_control/cartpole.hpp"
#include "envs/classic_control/pendulum.hpp"
#include "envs/registry.hpp"

namespace locus::envs {

namespace {

std::unique_ptr<Env> make_cartpole_domain_shift(const Kwargs& kwargs) {
  static const std::vector<std::string> kPhysicsKeys = {"gravity", "masscart",  "masspole",
                                                        "length",  "force_mag", "tau"};
  static const std::vector<std::string> kOtherKeys = {"sutton_barto_reward", "render_mode"};
  if (!kwargs.is_null() && !kwargs.is_object()) {
    throw InvalidArgumentError("CartPoleDomainShift: arguments must be a JSON object, got " +
                               kwargs.dump());
  }
  Kwargs physics_kwargs = Kwargs::object();
  Kwargs other_kwargs = Kwargs::object();
  if (kwargs.is_object()) {
    for (const auto& [key, value] : kwargs.items()) {
      if (std::find(kPhysicsKeys.begin(), kPhysicsKeys.end(), key) != kPhysicsKeys.end()) {
        physics_kwargs[key] = value;
      } else if (std::find(kOtherKeys.begin(), kOtherKeys.end(), key) != kOtherKeys.end()) {
        other_kwargs[key] = value;
      } else {
        std::string accepted;
        for (const auto& k : kPhysicsKeys) accepted += k + ", ";
        throw InvalidArgumentError("CartPoleDomainShift: unknown argument '" + key +
                                   "' (accepted: " + accepted +
                                   "sutton_barto_reward, render_mode)");
      }
    }
  }
  KwargsReader reader(physics_kwargs, "CartPoleDomainShift");
  CartPolePhysics physics;
  physics.gravity = reader.get<double>("gravity", physics.gravity);
  physics.masscart = reader.get<double>("masscart", physics.masscart);
  physics.masspole = reader.get<double>("masspole", physics.masspole);
  physics.length = reader.get<double>("length", physics.length);
  physics.force_mag = reader.get<double>("force_mag", physics.force_mag);
  physics.tau = reader.get<double>("tau", physics.tau);
  reader.finish();
  return std::make_unique<CartPoleEnv>(other_kwargs, physics);
}

std::unique_ptr<Env> make_pendulum(const Kwargs& kwargs) {
  return std::make_unique<PendulumEnv>(kwargs);
}

const bool registered = [] {
  Registry& registry = Registry::global();
  auto cartpole = [&](const std::string& id, Kwargs kwargs, const std::string& description) {
    registry.register_env({.id = id,
                           .entry_point = make_cartpole_domain_shift,
                           .reward_threshold = 475.0,
                           .max_episode_steps = 500,
                           .kwargs = std::move(kwargs),
                           .description = description});
  };
  cartpole("CartPoleDomainShift-v1", Kwargs::object(),
           "CartPole-v1 with its physics as kwargs (gravity, masscart, masspole, length, "
           "force_mag, tau)");
  cartpole("CartPoleLongPole-v1", {{"length", 1.0}}, "CartPole-v1 with a pole twice as long");
  cartpole("CartPoleShortPole-v1", {{"length", 0.25}}, "CartPole-v1 with a pole half as long");
  cartpole("CartPoleHeavyPole-v1", {{"masspole", 0.5}}, "CartPole-v1 with a pole 5x heavier");
  cartpole("CartPoleLowGravity-v1", {{"gravity", 4.9}}, "CartPole-v1 at half the gravity");
  cartpole("CartPoleHighGravity-v1", {{"gravity", 19.6}}, "CartPole-v1 at twice the gravity");
  auto pendulum = [&](const std::string& id, double g, const std::string& description) {
    registry.register_env({.id = id,
                           .entry_point = make_pendulum,
                           .max_episode_steps = 200,
                           .kwargs = {{"g", g}},
                           .description = description});
  };
  pendulum("PendulumLowGravity-v1", 5.0, "Pendulum-v1 at half the gravity (g = 5)");
  pendulum("PendulumHighGravity-v1", 15.0, "Pendulum-v1 at 1.5x the gravity (g = 15)");
  return true;
}();

}  // namespace

}  // namespace locus::envs
