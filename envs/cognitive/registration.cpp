// Registration of the cognitive tasks (NeuroGym's, with the fixes described in trial_env.hpp).
//
// The timed tasks run trials endlessly by default, as NeuroGym does; the registered time limit of
// 1000 steps ends an episode (truncated) so that generic loops (`locus rollout`, agents'
// episode statistics) terminate. kwargs trials_per_episode = n makes the task itself terminate
// after n trials instead.
#include "envs/builtin_envs.hpp"
#include "envs/cognitive/context_decision_making.hpp"
#include "envs/cognitive/delay_match_sample.hpp"
#include "envs/cognitive/go_no_go.hpp"
#include "envs/cognitive/perceptual_decision_making.hpp"
#include "envs/cognitive/reversal_bandit.hpp"
#include "envs/registry.hpp"

namespace locus::envs {

namespace {
constexpr std::int64_t kCognitiveTimeLimit = 1000;
}  // namespace

void register_cognitive_envs(Registry& registry) {
  registry.register_env(
      {.id = "GoNoGo-v0",
       .entry_point = env_factory<GoNoGoEnv>(),
       .max_episode_steps = kCognitiveTimeLimit,
       .description = "Go/No-Go with a delay (NeuroGym GoNogo-v0, Zhang et al. 2019)"});
  registry.register_env(
      {.id = "SetShiftGoNoGo-v0",
       .entry_point = env_factory<SetShiftGoNoGoEnv>(),
       .max_episode_steps = kCognitiveTimeLimit,
       .description =
           "Go/No-Go on visual A/B + auditory X/Y pairs; the rewarded stimulus switches"});
  registry.register_env(
      {.id = "ReversalBandit-v0",
       .entry_point = env_factory<ReversalBanditEnv>(),
       .max_episode_steps = kCognitiveTimeLimit,
       .description = "Two-armed bandit whose reward probabilities swap every block"});
  registry.register_env(
      {.id = "PerceptualDecisionMaking-v0",
       .entry_point = env_factory<PerceptualDecisionMakingEnv>(),
       .max_episode_steps = kCognitiveTimeLimit,
       .description = "Noisy motion direction, two-alternative choice (NeuroGym, Britten 1992)"});
  registry.register_env(
      {.id = "DelayMatchSample-v0",
       .entry_point = env_factory<DelayMatchSampleEnv>(),
       .max_episode_steps = kCognitiveTimeLimit,
       .description = "Delayed match-to-sample on a ring stimulus (NeuroGym, Miller 1996)"});
  registry.register_env(
      {.id = "ContextDecisionMaking-v0",
       .entry_point = env_factory<ContextDecisionMakingEnv>(),
       .max_episode_steps = kCognitiveTimeLimit,
       .description = "Two modalities, the context picks the relevant one (NeuroGym, Mante 2013)"});
}

}  // namespace locus::envs
