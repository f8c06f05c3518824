// Dopamine and noradrenaline in agents: the TD-error shift from reward to cue on GoNoGo, and the
// noradrenaline change flag when the rule of the set-shifting task flips.

#include <catch2/catch.hpp>
#include <cmath>

#include "agents/agent.hpp"

using namespace locus::agents;

namespace {

// GoNoGo with a 200 ms fixation period before the stimulus, so that the transition into the
// stimulus (the cue) is a step of its own: trial steps 0-1 fixation, 2-6 stimulus, 7-11 delay,
// 12-16 decision. One trial per episode; 17 stacked frames give the network the whole trial.
AgentConfig go_no_go_config(const std::string& env, std::uint64_t seed) {
  AgentConfig c;
  c.env = env;
  c.env_kwargs = {{"timing", {{"fixation", 200}}}, {"trials_per_episode", 1}};
  c.agent = Algorithm::kA2c;
  c.modulation = Modulation::kDopamine;
  c.network = NetworkMode::kTrainable;
  c.seed = seed;
  c.num_envs = 16;
  c.rollout_steps = 17;
  c.frame_stack = 17;
  c.learning_rate = 2e-3f;
  c.gae_lambda = 0.9f;
  return c;
}

constexpr std::int64_t kCueTransition = 1;  // step 1 -> step 2: the stimulus appears

struct ShiftMeans {
  double cue = 0.0, reward = 0.0;
  std::size_t cue_count = 0, reward_count = 0;
};

// Mean delta at the cue on Go trials and at the reward of hits.
ShiftMeans shift_means(const std::vector<DopamineSample>& trace) {
  ShiftMeans m;
  for (const auto& s : trace) {
    if (s.ground_truth == 1 && s.step_in_trial == kCueTransition) {
      m.cue += s.delta;
      m.cue_count += 1;
    }
    if (s.trial_ended && s.reward > 0) {
      m.reward += s.delta;
      m.reward_count += 1;
    }
  }
  if (m.cue_count > 0) m.cue /= double(m.cue_count);
  if (m.reward_count > 0) m.reward /= double(m.reward_count);
  return m;
}

}  // namespace

TEST_CASE("the dopamine response moves from the reward to the cue on GoNoGo",
          "[agents][dopamine]") {
  AgentConfig config = go_no_go_config("GoNoGo-v0", 7);
  config.trace_envs = config.num_envs;
  Agent agent(config);
  for (int u = 0; u < 3; ++u) agent.update();
  const ShiftMeans early = shift_means(agent.take_dopamine_trace());
  while (agent.steps() < 120000) agent.update();
  agent.take_dopamine_trace();
  for (int u = 0; u < 5; ++u) agent.update();
  const ShiftMeans late = shift_means(agent.take_dopamine_trace());
  const EvalResult eval = agent.evaluate(200);
  INFO("early: cue " << early.cue << " (" << early.cue_count << "), reward " << early.reward << " ("
                     << early.reward_count << ")");
  INFO("late: cue " << late.cue << " (" << late.cue_count << "), reward " << late.reward << " ("
                    << late.reward_count << "); success " << eval.success_rate);
  REQUIRE(early.cue_count >= 10);
  REQUIRE(early.reward_count >= 10);
  REQUIRE(late.cue_count >= 10);
  REQUIRE(late.reward_count >= 10);
  CHECK(eval.success_rate >= 0.9);
  // Early: the reward is unpredicted (delta near +1); the cue predicts nothing yet.
  CHECK(early.reward > 0.45);
  CHECK(early.reward > early.cue + 0.4);
  // Late: the cue carries the news (delta up), the reward is predicted (delta near 0).
  CHECK(late.cue > 0.2);
  CHECK(late.cue > late.reward + 0.15);
}

TEST_CASE("noradrenaline flags the rule switch of SetShiftGoNoGo", "[agents][noradrenaline]") {
  AgentConfig c = go_no_go_config("SetShiftGoNoGo-v0", 3);
  c.env_kwargs["switch_after_trials"] = 400;
  c.env_kwargs["max_switches"] = 1;
  c.modulation = Modulation::kDopamineNoradrenaline;
  c.contexts = ContextPolicy::kOnChange;
  Agent agent(c);
  std::vector<std::size_t> flags;
  std::vector<GainSample> gains;
  std::size_t switch_update = 0;
  const std::size_t updates = 700;
  std::size_t trials = 0;
  for (std::size_t u = 1; u <= updates; ++u) {
    const UpdateStats stats = agent.update();
    trials += stats.trials_ended;
    if (stats.change) flags.push_back(u);
    for (const auto& g : agent.take_gain_trace()) gains.push_back(g);
    if (switch_update == 0 && trials >= 400 * c.num_envs) switch_update = u;
  }
  INFO("switch near update " << switch_update);
  std::string flag_list;
  for (std::size_t f : flags) flag_list += std::to_string(f) + " ";
  INFO("flags at updates " << flag_list);
  double max_z_after = 0.0, max_z_before = 0.0;
  for (const auto& g : gains) {
    if (g.update >= switch_update) max_z_after = std::max(max_z_after, g.z);
    if (g.update > 100 && g.update + 20 < switch_update) max_z_before = std::max(max_z_before, g.z);
  }
  INFO("max z after the switch " << max_z_after << ", before " << max_z_before);
  REQUIRE(switch_update > 0);
  std::size_t before = 0, after = 0;
  for (std::size_t f : flags) {
    if (f + 20 < switch_update && f > 100) before += 1;  // after the learning transient
    if (f + 20 >= switch_update && f <= switch_update + 60) after += 1;
  }
  CHECK(after >= 1);
  CHECK(before <= 1);
  CHECK(agent.network().context_count() >= 2);
}
