// Registration of the classic-control environments, with Gymnasium's ids, limits and thresholds.
#include "envs/builtin_envs.hpp"
#include "envs/classic_control/acrobot.hpp"
#include "envs/classic_control/cartpole.hpp"
#include "envs/classic_control/mountain_car.hpp"
#include "envs/classic_control/pendulum.hpp"
#include "envs/registry.hpp"

namespace locus::envs {

void register_classic_control_envs(Registry& registry) {
  registry.register_env({.id = "CartPole-v0",
                         .entry_point = env_factory<CartPoleEnv>(),
                         .reward_threshold = 195.0,
                         .max_episode_steps = 200,
                         .description = "Balance a pole on a cart (Barto et al. 1983), 200 steps"});
  registry.register_env({.id = "CartPole-v1",
                         .entry_point = env_factory<CartPoleEnv>(),
                         .reward_threshold = 475.0,
                         .max_episode_steps = 500,
                         .description = "Balance a pole on a cart (Barto et al. 1983), 500 steps"});
  registry.register_env({.id = "MountainCar-v0",
                         .entry_point = env_factory<MountainCarEnv>(),
                         .reward_threshold = -110.0,
                         .max_episode_steps = 200,
                         .description = "Drive an underpowered car up a hill (Moore 1990)"});
  registry.register_env(
      {.id = "MountainCarContinuous-v0",
       .entry_point = env_factory<ContinuousMountainCarEnv>(),
       .reward_threshold = 90.0,
       .max_episode_steps = 999,
       .description = "Drive an underpowered car up a hill with a continuous force (Moore 1990)"});
  registry.register_env({.id = "Pendulum-v1",
                         .entry_point = env_factory<PendulumEnv>(),
                         .max_episode_steps = 200,
                         .description = "Swing a pendulum up and keep it upright"});
  registry.register_env({.id = "Acrobot-v1",
                         .entry_point = env_factory<AcrobotEnv>(),
                         .reward_threshold = -100.0,
                         .max_episode_steps = 500,
                         .description = "Swing a two-link arm's tip above a line (Sutton 1996)"});
}

}  // namespace locus::envs
