// Registration of the classic-control environments, with Gymnasium's ids, limits and thresholds.
#include "envs/builtin_envs.hpp"
#include "envs/classic_control/cartpole.hpp"
#include "envs/registry.hpp"

namespace locus::envs {

namespace {
template <class EnvClass>
EnvFactory factory() {
  return
      [](const Kwargs& kwargs) { return std::unique_ptr<Env>(std::make_unique<EnvClass>(kwargs)); };
}
}  // namespace

void register_classic_control_envs(Registry& registry) {
  registry.register_env({.id = "CartPole-v0",
                         .entry_point = factory<CartPoleEnv>(),
                         .reward_threshold = 195.0,
                         .max_episode_steps = 200,
                         .description = "Balance a pole on a cart (Barto et al. 1983), 200 steps"});
  registry.register_env({.id = "CartPole-v1",
                         .entry_point = factory<CartPoleEnv>(),
                         .reward_threshold = 475.0,
                         .max_episode_steps = 500,
                         .description = "Balance a pole on a cart (Barto et al. 1983), 500 steps"});
}

}  // namespace locus::envs
